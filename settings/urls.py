from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from common.health import healthz, readyz
from common.metrics import metrics
from webhooks.urls import page_urlpatterns as webhooks_pages

api_v1 = [
    path("", include("webhooks.urls")),
    path("", include("organizations.urls")),
    path("", include("bankstatements.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("swagger/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path(
        "redoc/",
        # Without the web fonts drf-spectacular's template loads from Google.
        SpectacularRedocView.as_view(url_name="schema", template_name="api_docs/redoc.html"),
        name="redoc",
    ),
]

handler404 = "common.api.not_found"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    *webhooks_pages,
]
