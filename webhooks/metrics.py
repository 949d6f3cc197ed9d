"""The webhook intake's counters on /metrics."""

from prometheus_client import Counter, Histogram

deliveries = Counter(
    "bank_webhook_deliveries_total",
    "Webhook deliveries by result: booked, unidentified, duplicate, conflict, rejected, "
    "throttled (429, not recorded), unavailable (503, database unreachable).",
    ["result"],
)
booking_seconds = Histogram(
    "bank_webhook_booking_seconds",
    "Time to book one valid delivery in the database (the booking call, exactly once).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
