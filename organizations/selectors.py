from decimal import Decimal

from accounting.models import EntryKind
from accounting.selectors import (
    account_balance_expression,
    account_statement_get,
    party_last_posted_at_expression,
)
from organizations.models import Organization


def organizations_visible(*, api_key=None):
    """Organizations a request may see: those of its API key, or all without one (reads
    open in development, or staff pages)."""
    organizations = Organization.objects.all()
    if api_key is not None:
        organizations = organizations.filter(api_keys=api_key)
    return organizations


def organization_balance_get(*, inn: str, api_key=None) -> Decimal:
    """The organization's exact balance (its account's credit balance), in one statement.

    Raises Organization.DoesNotExist for an unknown INN, or one outside `api_key`'s scope.
    """
    return (
        organizations_visible(api_key=api_key)
        .filter(inn=inn)
        .annotate(balance=account_balance_expression("account_id"))
        .values_list("balance", flat=True)
        .get()
    )


def organization_list_with_balances():
    """Organizations with `balance` (exact) and `last_payment_at` (when the latest payment
    from the INN was booked, None when none was), read in the same statement."""
    return Organization.objects.select_related("account").annotate(
        balance=account_balance_expression("account_id"),
        last_payment_at=party_last_posted_at_expression(party_ref="inn", kind=EntryKind.PAYMENT),
    )


def organization_statement_get(
    *, organization: Organization, start=None, end=None, offset=0, limit=None
):
    """The organization's account statement for [start, end); see account_statement_get."""
    return account_statement_get(
        account=organization.account, start=start, end=end, offset=offset, limit=limit
    )
