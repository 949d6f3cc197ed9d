from django.urls import path

from bankstatements.views import BankStatementImportView

# Under /api/v1/.
urlpatterns = [
    path("bank-statements/", BankStatementImportView.as_view(), name="bank-statement-import"),
]
