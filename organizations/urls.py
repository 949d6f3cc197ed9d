from django.urls import path

from organizations.views import OrganizationBalanceView, OrganizationStatementView

urlpatterns = [
    path(
        "organizations/<str:inn>/balance/",
        OrganizationBalanceView.as_view(),
        name="organization-balance",
    ),
    path(
        "organizations/<str:inn>/statement/",
        OrganizationStatementView.as_view(),
        name="organization-statement",
    ),
]
