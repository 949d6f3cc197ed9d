from django.core.management.base import BaseCommand, CommandError

from organizations.exceptions import OrganizationError
from organizations.selectors import organization_balance_get
from organizations.services import organization_create


class Command(BaseCommand):
    help = (
        "Create an organization with its ledger account; unidentified receipts already booked "
        "for its INN are moved to it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--inn", required=True, help="INN, 10 or 12 digits")
        parser.add_argument("--name", required=True, help="Organization name")

    def handle(self, *args, inn: str, name: str, **options):
        try:
            organization = organization_create(inn=inn, name=name)
        except OrganizationError as exc:
            raise CommandError(str(exc)) from exc
        balance = organization_balance_get(inn=organization.inn)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {organization} with account {organization.account.code}; "
                f"balance {balance}"
            )
        )
