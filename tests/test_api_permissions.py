"""The API is closed by default: a view that says nothing about who may call it refuses
everyone, and every view the service routes says so itself."""

from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView


def test_an_api_view_that_declares_no_permissions_refuses_everyone():
    class Undeclared(APIView):
        def get(self, request):
            return Response({"ok": True})

    response = Undeclared.as_view()(APIRequestFactory().get("/api/v1/undeclared/"))

    assert response.status_code == 403


def _views(resolver: URLResolver):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern)
        elif isinstance(pattern, URLPattern):
            yield getattr(pattern.callback, "cls", None)


def _declares_permissions(view: type) -> bool:
    return any(
        "permission_classes" in vars(klass)
        for klass in view.__mro__
        if klass.__module__.split(".")[0] not in ("rest_framework", "drf_spectacular")
    )


def test_every_routed_api_view_declares_who_may_call_it():
    from drf_spectacular.views import SpectacularAPIView

    views = {view for view in _views(get_resolver()) if view is not None}
    api_views = {v for v in views if issubclass(v, APIView)}
    # The schema and its UIs are served under SPECTACULAR_SETTINGS' own permissions.
    own = {v for v in api_views if not issubclass(v, SpectacularAPIView)
           and v.__module__.split(".")[0] != "drf_spectacular"}  # fmt: skip

    assert len(own) >= 5, own  # webhook, balance, statement, imitation (2), statements import
    assert [v.__name__ for v in own if not _declares_permissions(v)] == []
