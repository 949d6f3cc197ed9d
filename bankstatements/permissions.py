"""Who may import bank statements through the API: a staff user logged in to the admin
(session) with the `import_bankstatement` permission, or an API key (`Authorization: Bearer`,
issued in the admin) with the statement-import scope."""

from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission

from organizations.authentication import ApiKeyAuthentication
from organizations.models import ApiKey, ApiKeyScope

STATEMENT_IMPORT_SCOPE = ApiKeyScope.STATEMENT_IMPORT
STATEMENT_IMPORT_AUTHENTICATION = [ApiKeyAuthentication, SessionAuthentication]


def _api_key_has_scope(request, scope: str) -> bool:
    """Whether the request is authenticated by an API key carrying `scope`."""
    return isinstance(request.auth, ApiKey) and scope in request.auth.scopes


class CanImportBankStatements(BasePermission):
    message = "Importing bank statements needs a staff user with that permission."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is not None and user.is_authenticated and user.is_staff:
            return user.has_perm("bankstatements.import_bankstatement")
        return _api_key_has_scope(request, STATEMENT_IMPORT_SCOPE)
