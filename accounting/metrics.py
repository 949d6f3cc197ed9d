"""The ledger's backlog on /metrics, read from the database at scrape time through the same
selectors as the admin's home page."""

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from accounting.selectors import (
    balance_change_oldest_pending,
    balance_changes_pending_count,
    balance_deltas_pending_count,
)

# Each count reads at most this many index entries; a backlog that large is an alert
# whatever its exact size, and a scrape stays cheap however far behind the worker is.
COUNT_LIMIT = 1_000_000


class BalanceBacklogCollector(Collector):
    def collect(self):
        yield GaugeMetricFamily(
            "bank_webhook_balance_deltas_pending",
            "Balance deltas not yet folded into the cached balances "
            f"(counted up to {COUNT_LIMIT}).",
            value=balance_deltas_pending_count(limit=COUNT_LIMIT).count,
        )
        yield GaugeMetricFamily(
            "bank_webhook_balance_changes_undispatched",
            "Balance changes not yet written to the balance-change log "
            f"(counted up to {COUNT_LIMIT}).",
            value=balance_changes_pending_count(limit=COUNT_LIMIT).count,
        )
        oldest = balance_change_oldest_pending()
        age = (timezone.now() - oldest.created_at).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            "bank_webhook_balance_change_oldest_undispatched_age_seconds",
            "Age of the oldest balance change not yet logged (0 when none is pending).",
            value=max(0.0, age),
        )
