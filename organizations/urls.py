from django.urls import path

from organizations.views import OrganizationBalanceView

urlpatterns = [
    path(
        "organizations/<str:inn>/balance/",
        OrganizationBalanceView.as_view(),
        name="organization-balance",
    ),
]
