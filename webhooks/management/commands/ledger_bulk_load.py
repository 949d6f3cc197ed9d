from django.core.management.base import BaseCommand, CommandError

from webhooks.bulk_load import BulkLoadRefused, ledger_bulk_load


class Command(BaseCommand):
    help = (
        "Fill the ledger with payments at COPY speed for benchmarks, every database rule "
        "enforced (webhooks/bulk_load.py). Refuses a database holding payments it did not load."
    )

    def add_arguments(self, parser):
        parser.add_argument("--payments", type=int, required=True)
        parser.add_argument("--organizations", type=int, default=1000)
        parser.add_argument("--hot-share", type=float, default=0.5,
                            help="share of the payments to the first organization")  # fmt: skip
        parser.add_argument("--unknown-share", type=float, default=0.05,
                            help="share from INNs without an organization")  # fmt: skip
        parser.add_argument("--reversal-share", type=float, default=0.01)
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--batch", type=int, default=20_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-close", action="store_true",
                            help="leave the journal days open (beat closes them)")  # fmt: skip

    def handle(self, *args, **options):
        for name in ("hot_share", "unknown_share", "reversal_share"):
            if not 0 <= options[name] <= 1:
                raise CommandError(f"--{name.replace('_', '-')} must be between 0 and 1.")
        if options["payments"] < 1 or options["organizations"] < 1 or options["batch"] < 1:
            raise CommandError("--payments, --organizations and --batch must be positive.")

        def progress(report, seconds):
            self.stdout.write(
                f"{report.payments} payments in {seconds:.0f}s "
                f"({report.payments / max(seconds, 1e-9):.0f}/s)"
            )

        try:
            report = ledger_bulk_load(
                payments=options["payments"],
                organizations=options["organizations"],
                hot_share=options["hot_share"],
                unknown_share=options["unknown_share"],
                reversal_share=options["reversal_share"],
                days=options["days"],
                batch_size=options["batch"],
                seed=options["seed"],
                close_days=not options["no_close"],
                progress=progress if options["verbosity"] > 1 else None,
            )
        except BulkLoadRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Loaded {report.payments} payments ({report.unidentified} unidentified, "
            f"{report.reversals} reversed) to {report.organizations} organizations, "
            f"{report.closed_days} journal days closed, in "
            f"{report.seconds:.1f}s: {report.payments_per_second:.0f} payments/s "
            f"({', '.join(f'{k} {v}' for k, v in report.phases.items())})"
        )
