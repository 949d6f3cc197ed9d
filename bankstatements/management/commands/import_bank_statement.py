from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from bankstatements.exceptions import StatementRefused
from bankstatements.models import StatementSource
from bankstatements.services import bank_statement_import


class Command(BaseCommand):
    help = (
        "Import a bank statement (1CClientBankExchange, versions 1.01-1.03) of the service's "
        "account and match it to the payments; --dry-run shows the outcome and stores nothing. "
        "A malformed file is refused whole (exit status 1) with its line number and reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the statement file")
        parser.add_argument("--dry-run", action="store_true", help="show, store nothing")

    def handle(self, *args, **options):
        # An operator's command, worded like the API and the logs: in English.
        with translation.override("en"):
            self._import(**options)

    def _import(self, *, path: str, dry_run: bool = False, **options):
        file = Path(path)
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from exc
        try:
            result = bank_statement_import(
                content=content,
                file_name=file.name,
                source=StatementSource.COMMAND,
                dry_run=dry_run,
            )
        except StatementRefused as exc:
            raise CommandError(f"{file.name}: refused, {exc}") from exc
        self.stdout.write(result.message)
        for line in result.lines:
            self.stdout.write(
                f"  {line.position:>4} {line.get_status_display():<22} {line.number} of "
                f"{line.document_date:%d.%m.%Y} {line.amount} INN {line.payer_inn or '-'}"
            )
