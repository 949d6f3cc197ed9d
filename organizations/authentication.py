"""API keys on the JSON API: `Authorization: Bearer <key>`."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions
from rest_framework.throttling import SimpleRateThrottle

from organizations.models import ApiKey, ApiKeyScope

# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Sets request.auth to the ApiKey of a valid `Authorization: Bearer <key>`; a header with
    a wrong, revoked or expired key is a 401. Without the header, the request stays
    anonymous (the permission decides)."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        keyword, _, key = header.partition(" ")
        if keyword.lower() != self.keyword.lower():
            return None
        key = key.strip()
        if not key or len(key) > 200 or not key.isascii():
            raise exceptions.AuthenticationFailed("Invalid API key.")
        try:
            api_key = ApiKey.objects.get_from_key(key)
        except ApiKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("The API key has expired.")
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return (None, api_key)

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class HasApiKeyScope(permissions.BasePermission):
    """A key with the view's `required_scope`; no key at all only when API_AUTH_REQUIRED is
    off (development)."""

    def has_permission(self, request, view):
        api_key = request.auth
        if api_key is None:
            if not settings.API_AUTH_REQUIRED:
                return True
            raise exceptions.NotAuthenticated("An API key is required (Authorization: Bearer).")
        scope = getattr(view, "required_scope", ApiKeyScope.BALANCES)
        return isinstance(api_key, ApiKey) and scope in api_key.scopes


class ApiKeyRateThrottle(SimpleRateThrottle):
    """API_THROTTLE_RATE per key (per client address for requests without one), counted in
    the Django cache, so across processes when the cache is Redis."""

    scope = "api_key"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.prefix}"
        else:
            ident = f"address:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ApiKeyViewMixin:
    """What a view read or written with an API key declares."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKeyScope]
    throttle_classes = [ApiKeyRateThrottle]
    required_scope = ApiKeyScope.BALANCES

    @staticmethod
    def api_key_of(request) -> ApiKey | None:
        return request.auth if isinstance(request.auth, ApiKey) else None
