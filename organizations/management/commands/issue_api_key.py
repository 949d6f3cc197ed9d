from argparse import ArgumentTypeError
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from organizations.exceptions import OrganizationError
from organizations.models import ApiKeyScope, Organization
from organizations.services import api_key_issue


def _positive_days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise ArgumentTypeError(f"{value!r} is not a whole number of days") from None
    if days < 1:
        raise ArgumentTypeError("must be at least 1")
    return days


class Command(BaseCommand):
    help = (
        "Issue an API key for reading the balances and statements of the given organizations. "
        "The key is printed once, on standard output; only its hash is stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Who the key is for, e.g. 'Acme ERP'")
        parser.add_argument(
            "--inn",
            dest="inns",
            action="append",
            required=True,
            metavar="INN",
            help="An organization the key may read (repeat for several)",
        )
        parser.add_argument(
            "--scope",
            dest="scopes",
            action="append",
            choices=ApiKeyScope.values,
            help=f"What the key may do (repeat for several; default {ApiKeyScope.BALANCES})",
        )
        parser.add_argument(
            "--expires-days",
            type=_positive_days,
            metavar="N",
            help="The key expires N days from now (default: never)",
        )

    def handle(self, *args, name: str, inns: list[str], scopes, expires_days, **options):
        inns = list(dict.fromkeys(inn.strip() for inn in inns))
        organizations = list(Organization.objects.filter(inn__in=inns))
        unknown = sorted(set(inns) - {organization.inn for organization in organizations})
        if unknown:
            raise CommandError(f"--inn: no organization with INN {', '.join(unknown)}.")
        expiry_date = timezone.now() + timedelta(days=expires_days) if expires_days else None
        try:
            api_key, key = api_key_issue(
                name=name,
                organizations=organizations,
                scopes=list(dict.fromkeys(scopes)) if scopes else None,
                expiry_date=expiry_date,
            )
        except OrganizationError as exc:
            raise CommandError(str(exc)) from exc
        expires = (
            f"expires {timezone.localtime(api_key.expiry_date):%Y-%m-%d %H:%M %Z}"
            if expiry_date
            else "no expiry"
        )
        # What the key is goes to standard error, the key alone to standard output, so that
        # `KEY=$(manage.py issue_api_key ...)` captures just the key.
        self.stderr.write(
            f"Issued API key {api_key.prefix} ({api_key.name}) for INN {', '.join(inns)}; "
            f"scopes {', '.join(api_key.scopes)}; {expires}. The key follows, shown this once "
            "and stored only as a hash: hand it over now, for `Authorization: Bearer <key>`.",
            style_func=str,
        )
        self.stdout.write(key)
