"""The books after the load: every invariant holds, and what wrk saw answered is booked once."""

import time

from bench.database import scalar, scalars


def books_check(
    *, answered_2xx: int, unanswered_bound: int, preloaded: int = 0
) -> tuple[list[str], dict]:
    """Re-check the books after the load, before and after a final fold; return
    (failures, figures). The invariants are the service's own
    (reconciliation.selectors.books_discrepancies); the rest compares the deliveries with
    what the load generator saw (`preloaded` payments were bulk-loaded, not sent)."""
    from django.db import connections

    from accounting.chart import BANK_CLEARING, UNIDENTIFIED_RECEIPTS
    from accounting.models import EntryKind, Side
    from accounting.selectors import account_balance_get, account_get_by_code
    from accounting.services import account_balances_fold
    from reconciliation.selectors import books_discrepancies
    from webhooks.models import DeliveryResult

    failures = []
    figures = {
        "payments": scalar("SELECT count(*) FROM webhooks_payment"),
        "payments_total": scalar("SELECT coalesce(sum(amount), 0) FROM webhooks_payment"),
    }
    figures["unidentified_payments"], figures["unidentified_total"] = scalars(
        """
        SELECT count(*), coalesce(sum(amount), 0) FROM webhooks_payment p
         WHERE NOT EXISTS (SELECT 1 FROM organizations_organization o WHERE o.inn = p.payer_inn)
        """
    )
    for result in DeliveryResult.values:
        figures[f"deliveries_{result}"] = scalar(
            "SELECT count(*) FROM webhooks_delivery WHERE result = %s", [result]
        )
    figures["deliveries_200"] = scalar(
        "SELECT count(*) FROM webhooks_delivery WHERE http_status = 200"
    )
    figures["unanswered_at_wrk_stop"] = figures["deliveries_200"] - preloaded - answered_2xx
    clearing = account_get_by_code(code=BANK_CLEARING.code)
    suspense = account_get_by_code(code=UNIDENTIFIED_RECEIPTS.code)

    def expect(ok: bool, message: str) -> None:
        if not ok:
            failures.append(message)

    discrepancies = books_discrepancies()
    expect(not discrepancies, f"books_discrepancies(): {discrepancies}")
    booked = figures[f"deliveries_{DeliveryResult.BOOKED}"]
    unidentified = figures[f"deliveries_{DeliveryResult.UNIDENTIFIED}"]
    expect(
        booked + unidentified == figures["payments"],
        f"{booked + unidentified} booked or unidentified deliveries but "
        f"{figures['payments']} payments",
    )
    expect(
        unidentified == figures["unidentified_payments"],
        f"{unidentified} unidentified deliveries but {figures['unidentified_payments']} "
        "payments from unknown INNs",
    )
    expect(
        account_balance_get(account=suspense) == figures["unidentified_total"],
        f"unidentified receipts {account_balance_get(account=suspense)} != sum of payments "
        f"from unknown INNs {figures['unidentified_total']}",
    )
    expect(
        0 <= figures["unanswered_at_wrk_stop"] <= unanswered_bound,
        f"{figures['deliveries_200']} deliveries answered 200 for {answered_2xx} 2xx seen by "
        f"wrk (at most {unanswered_bound} can be in flight when wrk stops)",
    )
    repeats = (
        figures[f"deliveries_{DeliveryResult.DUPLICATE}"]
        + figures[f"deliveries_{DeliveryResult.CONFLICT}"]
    )
    expect(repeats == 0, "repeated operation_ids: the load generator should send each one once")
    rejected = figures[f"deliveries_{DeliveryResult.REJECTED}"]
    expect(rejected == 0, f"{rejected} rejected")

    started = time.monotonic()
    figures["folded_deltas"] = account_balances_fold()
    figures["fold_s"] = round(time.monotonic() - started, 3)
    figures["pending_deltas_after_fold"] = scalar("SELECT count(*) FROM accounting_balancedelta")
    discrepancies = books_discrepancies()
    expect(not discrepancies, f"books_discrepancies() after the fold: {discrepancies}")
    expect(figures["pending_deltas_after_fold"] == 0, "balance deltas left after the fold")
    figures["reversed_total"] = scalar(
        """
        SELECT coalesce(sum(p.amount), 0) FROM webhooks_payment p
          JOIN accounting_journalentry r ON r.reverses_id = p.entry_id
        """
    )
    # The backlog scenario's manual entries debit bank clearing too.
    figures["manual_clearing_debits"] = scalar(
        """
        SELECT coalesce(sum(l.amount), 0) FROM accounting_journalline l
          JOIN accounting_journalentry e ON e.id = l.entry_id
         WHERE e.kind = %s AND l.account_id = %s AND l.side = %s
        """,
        [EntryKind.MANUAL.value, clearing.pk, Side.DEBIT.value],
    )
    expected = (
        figures["payments_total"] - figures["reversed_total"] + figures["manual_clearing_debits"]
    )
    expect(
        account_balance_get(account=clearing) == expected,
        f"balance of bank clearing {account_balance_get(account=clearing)} != sum of payments "
        f"{figures['payments_total']} less reversed {figures['reversed_total']} plus manual "
        f"debits {figures['manual_clearing_debits']}",
    )
    connections.close_all()
    return failures, {
        k: str(v) if not isinstance(v, int | float) else v for k, v in figures.items()
    }
