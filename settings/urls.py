from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from settings.health import healthz, readyz
from webhooks.imitation_views import (
    BankImitationCreateView,
    BankImitationDetailView,
    bank_imitation_page,
)

api_v1 = [
    path("", include("webhooks.urls")),
    path("", include("organizations.urls")),
    path("bank-imitation/", BankImitationCreateView.as_view(), name="bank-imitation"),
    path(
        "bank-imitation/<int:pk>/", BankImitationDetailView.as_view(), name="bank-imitation-detail"
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("swagger/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # The brief's path for the bank imitation page.
    path("swagger/webhook/bank/imitation/", bank_imitation_page, name="bank-imitation-page"),
]
