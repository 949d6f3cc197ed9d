from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from accounting.models import EntryKind
from accounting.selectors import (
    account_balance_expression,
    account_statement_get,
    party_last_posted_at_expression,
)
from common.db import prepared_rows
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


@dataclass(frozen=True)
class BalanceRead:
    """A balance read for a request, with the API key it was read with (absent: None)."""

    balance: Decimal | None  # None: no organization with the INN within the key's scope
    key_id: str | None = None
    prefix: str | None = None
    hashed_key: str | None = None
    revoked: bool | None = None
    expiry_date: datetime | None = None
    last_used_at: datetime | None = None
    scopes: tuple[str, ...] = ()


_BALANCE_BY_KEY_SQL = """
SELECT k.id, k.prefix, k.hashed_key, k.revoked, k.expiry_date, k.last_used_at, k.scopes,
       (SELECT accounting_account_balance(o.account_id)
          FROM organizations_organization o
          JOIN organizations_apikey_organizations ko ON ko.organization_id = o.id
         WHERE ko.apikey_id = k.id AND o.inn = %s)
  FROM organizations_apikey k
 WHERE k.prefix = %s
"""
_BALANCE_SQL = """
SELECT accounting_account_balance(o.account_id) FROM organizations_organization o WHERE o.inn = %s
"""


def organization_balance_read(*, inn: str, key_prefix: str | None = None) -> BalanceRead:
    """The exact balance of the organization with `inn` and, with `key_prefix`, the API key
    of that prefix (for the caller to verify), in one prepared statement: the balance only if
    the key's organizations include this one. The hottest read of the API."""
    if key_prefix is None:
        rows = prepared_rows(_BALANCE_SQL, [inn])
        return BalanceRead(balance=rows[0][0] if rows else None)
    rows = prepared_rows(_BALANCE_BY_KEY_SQL, [inn, key_prefix])
    if not rows:
        return BalanceRead(balance=None)
    key_id, prefix, hashed_key, revoked, expiry_date, last_used_at, scopes, balance = rows[0]
    return BalanceRead(
        balance, key_id, prefix, hashed_key, revoked, expiry_date, last_used_at, tuple(scopes)
    )
