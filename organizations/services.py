from django.db import IntegrityError, transaction

from accounting.chart import organization_account_code
from accounting.models import AccountType
from accounting.selectors import suspense_receipts_unallocated
from accounting.services import account_create, journal_entry_reclassify
from organizations.exceptions import InvalidInn, OrganizationError, OrganizationExists
from organizations.inn import INN_FORMAT_MESSAGE, inn_format_valid
from organizations.locks import inn_lock_exclusive
from organizations.models import Organization


@transaction.atomic
def organization_create(*, inn: str, name: str, created_by=None) -> Organization:
    """Create an organization with its ledger account `62.<INN>`, and move onto it every
    unidentified receipt already booked for its INN (one reclassification entry each).

    One transaction. Holds the INN's exclusive advisory lock, so no webhook for this INN is
    booked to unidentified receipts after the move. Raises InvalidInn, OrganizationExists,
    or OrganizationError for an empty name.
    """
    inn = (inn or "").strip()
    name = (name or "").strip()
    if not inn_format_valid(inn):
        raise InvalidInn(INN_FORMAT_MESSAGE)
    if not name:
        raise OrganizationError("Name must not be empty.")
    inn_lock_exclusive(inn)
    if Organization.objects.filter(inn=inn).exists():
        raise OrganizationExists(f"An organization with INN {inn} exists.")
    try:
        with transaction.atomic():
            account = account_create(
                code=organization_account_code(inn),
                name=f"Settlements with {name}",
                type=AccountType.LIABILITY,
            )
            organization = Organization.objects.create(inn=inn, name=name, account=account)
    except IntegrityError as exc:
        raise OrganizationExists(f"An organization with INN {inn} exists.") from exc
    for receipt in suspense_receipts_unallocated(party=inn):
        journal_entry_reclassify(
            entry=receipt,
            to_account=account,
            reason=f"Organization {inn} created",
            created_by=created_by,
        )
    return organization


def organization_rename(*, organization: Organization, name: str) -> Organization:
    """Change the organization's display name; its INN and account never change.

    One UPDATE of the name column. Raises OrganizationError for an empty name.
    """
    name = (name or "").strip()
    if not name:
        raise OrganizationError("Name must not be empty.")
    organization.name = name
    organization.save(update_fields=["name"])
    return organization
