from decimal import Decimal

from accounting.selectors import account_balance_expression, account_statement_get
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


def organization_statement_get(
    *, organization: Organization, start=None, end=None, offset=0, limit=None
):
    """The organization's account statement for [start, end); see account_statement_get."""
    return account_statement_get(
        account=organization.account, start=start, end=end, offset=offset, limit=limit
    )
