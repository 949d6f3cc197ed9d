"""The benchmark's scenarios: two targets measured in alternating rounds of one run, so that
their ratio says something even on a machine whose speed drifts.

- intake: signed webhooks (100 organizations, 10 % unknown INNs) against the DRF floor
  view; rps ratio >= 0.35, p99 at most 4 times the floor's.
- hot: every webhook to one organization against webhooks spread; >= 0.95.
- backlog: webhooks to an organization with 100,000 pending deltas, fold off, against
  webhooks to one with none; >= 0.9.
- balance: GET balance with an API key against the floor; >= 0.5.
- balance-size: GET balance of the big organization at --size-to payments against the
  same at --preload payments; >= 0.9.
"""

import time
from dataclasses import dataclass, field
from decimal import Decimal

from bench import RESULTS
from bench.payloads import BENCH_SECRET, signed_requests_write
from bench.wrk import Target, combine, measure, warm_up

WEBHOOK_PATH = "/api/v1/webhook/bank/"
FLOOR_PATH = "/bench/floor/"

# Requests written per second of a webhook run: several times what the service can take.
SIGNED_PER_SECOND = 4000


@dataclass
class Scenario:
    name: str
    a: str  # the names of the two targets compared
    b: str
    target_ratio: float
    p99_factor: float | None = None  # A's p99 at most this many times B's
    fold: bool = True
    needs_api_key: bool = False
    backlog: int = 0
    # Payments bulk-loaded before the run (and, for balance-size, after the first half).
    preload: int = 0


SCENARIOS = {
    "intake": Scenario("intake", "webhook", "floor", 0.35, p99_factor=4.0),
    "hot": Scenario("hot", "webhook-hot", "webhook", 0.95),
    "backlog": Scenario(
        "backlog", "webhook-backlog", "webhook-fresh", 0.9, fold=False, backlog=100_000
    ),  # fmt: skip
    "balance": Scenario("balance", "balance", "floor", 0.5, needs_api_key=True, preload=10_000),
    "balance-size": Scenario(
        "balance-size", "balance-big", "balance-small", 0.9, needs_api_key=True, preload=10_000
    ),  # fmt: skip
}


@dataclass
class Context:
    """What the targets of a run need: the server's URL and the data made for it."""

    base: str
    threads: int
    known: list[str]
    unknown: list[str]
    unknown_share: float
    signed: bool
    api_key: str = ""
    written: list = field(default_factory=list)


def _webhook_args(context: Context, inns: list[str], unknown_share: float):
    """wrk arguments for webhooks to `inns`: pre-signed requests written just before each
    wrk invocation (the signatures are then fresh), or the unsigned generator script."""

    def make(nonce: int, seconds: int) -> list[str]:
        if not context.signed:
            return [str(nonce), ",".join(inns), ",".join(context.unknown), str(unknown_share)]
        path = RESULTS / f"signed-{nonce}.tsv"
        context.written.append(path)
        signed_requests_write(
            path,
            count=SIGNED_PER_SECOND * max(seconds, 1),
            known=inns,
            unknown=context.unknown,
            unknown_share=unknown_share,
        )
        return [str(path), str(context.threads)]

    return make


def targets(context: Context, hot_inn: str, backlog_inn: str, fresh_inn: str) -> dict:
    script = "replay.lua" if context.signed else "webhook.lua"
    url = context.base + WEBHOOK_PATH
    return {
        "webhook": Target(
            "webhook", url, script, _webhook_args(context, context.known, context.unknown_share)
        ),
        "webhook-hot": Target("webhook-hot", url, script, _webhook_args(context, [hot_inn], 0)),
        "webhook-backlog": Target(
            "webhook-backlog", url, script, _webhook_args(context, [backlog_inn], 0)
        ),
        "webhook-fresh": Target(
            "webhook-fresh", url, script, _webhook_args(context, [fresh_inn], 0)
        ),
        "floor": Target("floor", context.base + FLOOR_PATH, "floor.lua", lambda n, s: []),
        "balance": Target(
            "balance", context.base, "balance.lua", lambda n, s: [context.api_key, hot_inn]
        ),
        "balance-small": Target(
            "balance-small", context.base, "balance.lua", lambda n, s: [context.api_key, hot_inn]
        ),
        "balance-big": Target(
            "balance-big", context.base, "balance.lua", lambda n, s: [context.api_key, hot_inn]
        ),
    }


def rounds(args, scenario: Scenario, a: Target, b: Target, pids, between=None) -> dict:
    """Warm both up, then alternate A and B `args.rounds` times; `between` runs after A's
    warm-up (ANALYZE, as autovacuum would)."""
    round_seconds = max(1, round(args.duration / args.rounds))
    warm = {a.name: warm_up(args, a)}
    if between:
        between()
    if b.name != a.name:
        warm[b.name] = warm_up(args, b)
    runs = {a.name: [], b.name: []}
    for _ in range(args.rounds):
        for target in (a, b):
            runs[target.name].append(measure(args, target, round_seconds, pids))
    return {"warmup": warm, a.name: combine(runs[a.name]), b.name: combine(runs[b.name])}


def verdict(scenario: Scenario, a: dict, b: dict) -> dict:
    ratio = a["rps"] / b["rps"] if b["rps"] else 0.0
    result = {"ratio": round(ratio, 3), "target": scenario.target_ratio}
    ok = ratio >= scenario.target_ratio
    if scenario.p99_factor:
        p99 = a["latency_us"]["p99"] / max(b["latency_us"]["p99"], 1)
        result.update(p99_ratio=round(p99, 2), p99_target=scenario.p99_factor)
        ok = ok and p99 <= scenario.p99_factor
    result["met"] = ok
    return result


def backlog_build(account_id: int, count: int) -> float:
    """Post `count` one-statement entries to `account_id` (Dr bank clearing), each leaving a
    pending delta: the backlog the fold would have consolidated. Returns the seconds taken."""
    from django.db import connection, transaction

    from accounting.chart import BANK_CLEARING
    from accounting.models import EntryKind, Side
    from accounting.selectors import account_get_by_code

    clearing = account_get_by_code(code=BANK_CLEARING.code)
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        # One call per entry, so one lines statement, so one pending delta per entry.
        cursor.execute(
            "SELECT count(accounting_post_entry(%s, 'Backlog ' || i, '', '', %s, %s, %s, %s))"
            " FROM generate_series(1, %s) AS i",
            [
                EntryKind.MANUAL.value,
                [clearing.pk, account_id],
                [Side.DEBIT.value, Side.CREDIT.value],
                [Decimal("1.00"), Decimal("1.00")],
                [clearing.currency, clearing.currency],
                count,
            ],
        )
    return time.monotonic() - started


def pending_deltas() -> int:
    from accounting.models import BalanceDelta

    return BalanceDelta.objects.count()


SECRET_ENV = {"WEBHOOK_SECRETS": BENCH_SECRET}
