"""Who may import bank statements through the API: the one place to extend.

Today: a staff user, logged in to the admin (session), with the `import_bankstatement`
permission. API keys with scopes will add the statement-import scope here: an
authentication class for the keys in STATEMENT_IMPORT_AUTHENTICATION, and the scope check
in `_api_key_has_scope`.
"""

from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission

STATEMENT_IMPORT_SCOPE = "statement-import"
STATEMENT_IMPORT_AUTHENTICATION = [SessionAuthentication]


def _api_key_has_scope(request, scope: str) -> bool:
    """Whether the request is authenticated by an API key carrying `scope` (no keys yet)."""
    return False


class CanImportBankStatements(BasePermission):
    message = "Importing bank statements needs a staff user with that permission."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is not None and user.is_authenticated and user.is_staff:
            return user.has_perm("bankstatements.import_bankstatement")
        return _api_key_has_scope(request, STATEMENT_IMPORT_SCOPE)
