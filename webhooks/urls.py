from django.urls import path

from webhooks.views import BankWebhookView

urlpatterns = [
    path("webhook/bank/", BankWebhookView.as_view(), name="bank-webhook"),
]
