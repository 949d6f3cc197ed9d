"""The periodic schedule with real processes: `bin/service beat` beside a Celery worker.

Beat runs with the service's own schedule, only the fold and sweep intervals shortened by
their settings. The daily reconciliation keeps its crontab: the schedule file beat starts
from says it last ran two days ago, so the run it missed is due at once, as after a night
the scheduler was down.
"""

import re
from collections import Counter
from datetime import datetime, time, timedelta
from decimal import Decimal
from time import sleep

import pytest
from celery.beat import PersistentScheduler
from django.db import connection, transaction
from django.utils import timezone

from accounting.models import AccountBalance, BalanceChange, BalanceDelta
from common.dates import yesterday_bounds
from reconciliation.models import ReconciliationReport, ReportStatus
from reconciliation.services import reconciliation_report_create_for_yesterday
from settings.celery import app
from tests.factories import OrganizationFactory, WebhookPayloadFactory
from tests.servers import database_url_of
from tests.webhooks.helpers import post_webhook
from tests.workers import celery_beat, celery_worker, logged_change_ids, purge_broker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SHORT_SCHEDULE = {
    "BALANCE_FOLD_INTERVAL_SECONDS": "1",
    "BALANCE_CHANGE_SWEEP_INTERVAL_SECONDS": "1",
}
# Beat logs the fold's "Sending due task" at DEBUG (accounting.log_filters.IdleFoldFilter):
# at this level the test can count it.
BEAT_ENV = {**SHORT_SCHEDULE, "LOG_LEVEL": "DEBUG"}


def _post_at(moment, debit_account: int, credit_account: int, amount: str) -> None:
    """A balanced manual entry posted at `moment`, in raw SQL (as a back-dated import)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            WITH e AS (
                INSERT INTO accounting_journalentry (kind, memo, reference, party, line_count,
                                                     reason, posted_at)
                VALUES ('manual', 'dated', '', '', 2, '', %(at)s) RETURNING id)
            INSERT INTO accounting_journalline (entry_id, account_id, side, amount,
                                                amount_currency)
            SELECT e.id, a, s, %(amount)s, 'RUB' FROM e,
                   (VALUES (%(debit)s::bigint, 'D'), (%(credit)s::bigint, 'C')) v(a, s)
            """,
            {"at": moment, "amount": amount, "debit": debit_account, "credit": credit_account},
        )


def _not_at_midnight(margin: float = 90.0) -> None:
    """Wait out the last `margin` seconds of a Moscow day: "yesterday" must stay the same day
    from the fixture to the report the test waits for."""
    now = timezone.localtime()
    midnight = timezone.make_aware(datetime.combine(now.date() + timedelta(days=1), time.min))
    left = (midnight - now).total_seconds()
    if left < margin:
        sleep(left + 1)


@pytest.fixture
def three_days():
    """Manual entries between two organizations the day before yesterday, yesterday (two)
    and today: yesterday's debits are 12.50."""
    _not_at_midnight()
    first, second = OrganizationFactory().account.pk, OrganizationFactory().account.pk
    start, end = yesterday_bounds()
    _post_at(start - timedelta(hours=2), first, second, "7.00")
    _post_at(start + timedelta(hours=10), first, second, "10.00")
    _post_at(end - timedelta(seconds=1), second, first, "2.50")
    _post_at(end + timedelta(seconds=1), first, second, "3.00")
    return start, end


def _sent(beat_log: str, entry: str) -> int:
    return len(re.findall(rf"Sending due task {re.escape(entry)} ", beat_log))


def _seed_schedule(path, *, reconciliation_last_run):
    """The schedule file as beat would have left it, the daily report last run then."""
    scheduler = PersistentScheduler(app=app, schedule_filename=str(path))
    try:
        scheduler.schedule["daily-reconciliation"].last_run_at = reconciliation_last_run
        scheduler.sync()
    finally:
        scheduler.close()


def test_reconciliation_for_yesterday_covers_exactly_yesterday_in_moscow_time(three_days):
    report = reconciliation_report_create_for_yesterday()

    start, end = three_days
    assert (report.period_start, report.period_end) == (start, end)
    local_start = timezone.localtime(report.period_start)
    assert (local_start.hour, local_start.minute, local_start.utcoffset()) == (
        0,
        0,
        timedelta(hours=3),
    )
    assert report.period_end - report.period_start == timedelta(days=1)
    assert timezone.localtime(report.period_end).date() == timezone.localdate()
    assert report.status == ReportStatus.OK, report.discrepancies
    assert report.figures["totals"]["period_debit"] == "12.50"
    assert report.figures["totals"]["period_credit"] == "12.50"


def test_beat_fires_the_fold_the_sweep_and_the_daily_reconciliation(tmp_path, client, three_days):
    organization = OrganizationFactory(inn="1234567890")
    payloads = [
        WebhookPayloadFactory(payer_inn="1234567890", amount=Decimal(amount))
        for amount in ("4.25", "0.75")
    ]
    for payload in payloads:
        assert post_webhook(client, payload).status_code == 200
    # Only beat may fold and sweep now: the dispatches the postings queued are dropped.
    purge_broker()
    pending = set(
        BalanceChange.objects.filter(dispatched_at__isnull=True).values_list("id", flat=True)
    )
    assert pending and BalanceDelta.objects.exists()
    assert not ReconciliationReport.objects.exists()
    _seed_schedule(
        tmp_path / "celerybeat-schedule",
        reconciliation_last_run=timezone.now() - timedelta(days=2),
    )
    database_url = database_url_of(connection.settings_dict)
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"

    with (
        celery_worker(database_url=database_url, log_path=worker_log, env=SHORT_SCHEDULE),
        celery_beat(database_url=database_url, var_dir=tmp_path, log_path=beat_log, env=BEAT_ENV),
    ):
        report = wait_for(
            ReconciliationReport.objects.first, timeout=60, what="the daily reconciliation"
        )
        wait_for(
            lambda: not BalanceChange.objects.filter(dispatched_at__isnull=True).exists(),
            timeout=30,
            what="the sweep",
        )
        wait_for(lambda: not BalanceDelta.objects.exists(), timeout=30, what="the fold")
        # Each interval task fires again; the daily report does not.
        wait_for(
            lambda: (
                min(
                    _sent(beat_log.read_text(), name)
                    for name in ("fold-balance-deltas", "sweep-balance-changes")
                )
                >= 3
            ),
            timeout=30,
            what="three folds and three sweeps",
        )

    log = beat_log.read_text()
    assert _sent(log, "daily-reconciliation") == 1, log
    assert ReconciliationReport.objects.count() == 1
    start, end = three_days
    assert (report.period_start, report.period_end) == (start, end)
    assert report.status == ReportStatus.OK, report.discrepancies
    assert report.figures["totals"]["period_debit"] == "12.50"
    assert report.figures["totals"]["payments_period"] == "0"  # today's payments are not in it
    logged = Counter(logged_change_ids(worker_log.read_text()))
    assert pending <= set(logged) and set(logged.values()) == {1}
    cached = AccountBalance.objects.get(account=organization.account).balance
    assert cached == Decimal("5.00")  # folded: no delta is left to add


def test_admin_run_reconciliation_now_is_done_by_the_worker(tmp_path, admin_client, three_days):
    purge_broker()
    worker_log = tmp_path / "worker.log"
    with celery_worker(database_url=database_url_of(connection.settings_dict), log_path=worker_log):
        response = admin_client.post("/admin/reconciliation/reconciliationreport/run/", follow=True)
        report = wait_for(ReconciliationReport.objects.first, timeout=60, what="the report")

    assert response.redirect_chain == [("/admin/reconciliation/reconciliationreport/", 302)]
    [message] = [str(m) for m in response.context["messages"]]
    assert message == "Сверка поставлена в очередь; отчёт скоро появится здесь."  # ru admin
    assert re.search(
        rf"reconciliation_report_create_task\[[-0-9a-f]+\] succeeded in [0-9.]+s: {report.pk}$",
        worker_log.read_text(),
        re.M,
    )
    start, _ = three_days
    assert report.period_start == start
    assert timezone.now() - timedelta(minutes=1) < report.period_end <= timezone.now()
    assert report.status == ReportStatus.OK, report.discrepancies
    # Yesterday's 12.50 and today's 3.00 so far.
    assert report.figures["totals"]["period_debit"] == "15.50"
    assert ReconciliationReport.objects.count() == 1
