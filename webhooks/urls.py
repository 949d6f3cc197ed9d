from django.urls import path

from webhooks.imitation_views import (
    BankImitationCreateView,
    BankImitationDetailView,
    bank_imitation_page,
)
from webhooks.views import BankWebhookView

# Under /api/v1/.
urlpatterns = [
    path("webhook/bank/", BankWebhookView.as_view(), name="bank-webhook"),
    path("bank-imitation/", BankImitationCreateView.as_view(), name="bank-imitation"),
    path(
        "bank-imitation/<int:pk>/", BankImitationDetailView.as_view(), name="bank-imitation-detail"
    ),
]

# At the site's root: the brief's path for the bank imitation page.
page_urlpatterns = [
    path("swagger/webhook/bank/imitation/", bank_imitation_page, name="bank-imitation-page"),
]
