from decimal import Decimal

from accounting.selectors import account_balance_expression
from organizations.models import Organization


def organization_balance_get(*, inn: str) -> Decimal:
    """The organization's exact balance (its account's credit balance), in one statement.

    Raises Organization.DoesNotExist for an unknown INN.
    """
    return (
        Organization.objects.filter(inn=inn)
        .annotate(balance=account_balance_expression("account_id"))
        .values_list("balance", flat=True)
        .get()
    )


def organization_list_with_balances():
    return Organization.objects.select_related("account").annotate(
        balance=account_balance_expression("account_id")
    )
