from django.db import IntegrityError, transaction

from accounting.chart import organization_account_code
from accounting.models import AccountType
from accounting.selectors import suspense_receipts_unallocated
from accounting.services import account_create, journal_entry_reclassify
from common.validators import refused_character
from organizations.exceptions import InvalidInn, OrganizationError, OrganizationExists
from organizations.inn import INN_FORMAT_MESSAGE, inn_format_valid
from organizations.locks import inn_lock_exclusive
from organizations.models import ApiKey, ApiKeyScope, Organization


def _name_check(name: str) -> None:
    if not name:
        raise OrganizationError("Name must not be empty.")
    char = refused_character(name)
    if char is not None:
        raise OrganizationError(f"Name must not contain U+{ord(char):04X} (a control character).")


@transaction.atomic
def organization_create(*, inn: str, name: str, created_by=None) -> Organization:
    """Create an organization with its ledger account `62.<INN>`, and move onto it every
    unidentified receipt already booked for its INN (one reclassification entry each).

    One transaction. Holds the INN's exclusive advisory lock, so no webhook for this INN is
    booked to unidentified receipts after the move. Raises InvalidInn, OrganizationExists,
    or OrganizationError for an empty name or one with control characters.
    """
    inn = (inn or "").strip()
    name = (name or "").strip()
    if not inn_format_valid(inn):
        raise InvalidInn(INN_FORMAT_MESSAGE)
    _name_check(name)
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
    _name_check(name)
    organization.name = name
    organization.save(update_fields=["name"])
    return organization


@transaction.atomic
def api_key_issue(
    *,
    name: str,
    organizations,
    scopes: list[str] | None = None,
    expiry_date=None,
    created_by=None,
) -> tuple[ApiKey, str]:
    """Issue an API key for `organizations`; return it with its plain-text key, which is
    stored nowhere (only its hash is) and must be handed over now.

    One transaction. Raises OrganizationError for an empty name or an unknown scope.
    """
    name = (name or "").strip()
    if not name:
        raise OrganizationError("An API key needs a name.")
    scopes = list(scopes or [ApiKeyScope.BALANCES])
    unknown = set(scopes) - set(ApiKeyScope.values)
    if unknown:
        raise OrganizationError(f"Unknown scopes: {', '.join(sorted(unknown))}.")
    api_key, key = ApiKey.objects.create_key(
        name=name, scopes=scopes, expiry_date=expiry_date, created_by=created_by
    )
    api_key.organizations.set(organizations)
    return api_key, key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke the key for good: from now on it answers 401."""
    api_key.revoked = True
    api_key.save(update_fields=["revoked"])
    return api_key
