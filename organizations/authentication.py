"""API keys on the JSON API: `Authorization: Bearer <key>`."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions
from rest_framework_api_key.crypto import KeyGenerator

from common.throttling import FixedWindowThrottle
from organizations.models import ApiKey, ApiKeyScope

# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


KEYWORD = "Bearer"
_key_generator = KeyGenerator()


def bearer_key(request) -> str | None:
    """The key of an `Authorization: Bearer <key>` header; None without one (or with
    another scheme); AuthenticationFailed when it cannot be a key."""
    keyword, _, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if keyword.lower() != KEYWORD.lower():
        return None
    key = key.strip()
    if not key or len(key) > 200 or not key.isascii() or "." not in key:
        raise exceptions.AuthenticationFailed("Invalid API key.")
    return key


def key_prefix(key: str) -> str:
    return key.partition(".")[0]


def key_accept(*, key: str, key_id, hashed_key, revoked, expiry_date, last_used_at) -> None:
    """Raise AuthenticationFailed unless `key` matches the stored hash of a key that is
    neither revoked nor expired (absent: hashed_key None); record the key's use, at most
    once a minute. The one rule for every way a key is read."""
    if hashed_key is None or revoked or not _key_generator.verify(key, hashed_key):
        raise exceptions.AuthenticationFailed("Invalid API key.")
    now = timezone.now()
    if expiry_date is not None and expiry_date < now:
        raise exceptions.AuthenticationFailed("The API key has expired.")
    if last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key_id).update(last_used_at=now)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Sets request.auth to the ApiKey of a valid `Authorization: Bearer <key>`; a header with
    a wrong, revoked or expired key is a 401. Without the header, the request stays
    anonymous (the permission decides)."""

    keyword = KEYWORD

    def authenticate(self, request):
        key = bearer_key(request)
        if key is None:
            return None
        api_key = ApiKey.objects.filter(prefix=key_prefix(key)).first()
        key_accept(
            key=key,
            key_id=api_key and api_key.pk,
            hashed_key=api_key and api_key.hashed_key,
            revoked=api_key and api_key.revoked,
            expiry_date=api_key and api_key.expiry_date,
            last_used_at=api_key and api_key.last_used_at,
        )
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


class ApiKeyRateThrottle(FixedWindowThrottle):
    """API_THROTTLE_RATE per key (per client address for requests without one), counted in
    the Django cache, so across processes when the cache is Redis."""

    scope = "api_key"

    def get_ident_key(self, request, view) -> str:
        prefix = getattr(request.auth, "prefix", None)
        return f"key:{prefix}" if prefix else f"address:{self.get_ident(request)}"


class ApiKeyViewMixin:
    """What a view read or written with an API key declares."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKeyScope]
    throttle_classes = [ApiKeyRateThrottle]
    required_scope = ApiKeyScope.BALANCES

    @staticmethod
    def api_key_of(request) -> ApiKey | None:
        return request.auth if isinstance(request.auth, ApiKey) else None
