from decimal import Decimal

import pytest

from accounting.exceptions import (
    AlreadyReversed,
    InvalidLine,
    NotReclassifiable,
    NotReversible,
    UnbalancedEntry,
)
from accounting.models import (
    BalanceChange,
    BalanceDelta,
    EntryKind,
    Side,
)
from accounting.selectors import (
    account_balance_get,
    account_get_by_code,
    suspense_receipts_unallocated,
    trial_balance_get,
)
from accounting.services import (
    LineSpec,
    account_balances_fold,
    journal_entry_post,
    journal_entry_reclassify,
    journal_entry_reverse,
)
from tests.factories import AccountFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def _receipt(credit_account, amount="100.00", party=""):
    """A bank receipt: Dr 51 / Cr `credit_account`."""
    return journal_entry_post(
        kind=EntryKind.MANUAL,
        memo="receipt",
        party=party,
        lines=[
            LineSpec(
                account=account_get_by_code(code="51"), side=Side.DEBIT, amount=Decimal(amount)
            ),
            LineSpec(account=credit_account, side=Side.CREDIT, amount=Decimal(amount)),
        ],
    )


def test_posting_moves_both_balances_on_their_normal_sides():
    organization = OrganizationFactory()

    _receipt(organization.account, "100.00")

    assert account_balance_get(account=account_get_by_code(code="51")) == Decimal("100.00")
    assert account_balance_get(account=organization.account) == Decimal("100.00")


def test_posting_inserts_deltas_and_a_balance_change_for_the_liability():
    organization = OrganizationFactory()

    entry = _receipt(organization.account, "42.00")

    assert sorted(BalanceDelta.objects.values_list("amount", flat=True)) == [
        Decimal("42.00"),
        Decimal("42.00"),
    ]
    change = BalanceChange.objects.get()
    assert (change.account, change.entry, change.amount) == (
        organization.account,
        entry,
        Decimal("42.00"),
    )


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ([("51", "D", "10.00"), ("76.UNID", "C", "9.00")], UnbalancedEntry),
        ([("51", "D", "10.00")], InvalidLine),
        ([("51", "D", "0.00"), ("76.UNID", "C", "0.00")], InvalidLine),
        ([("51", "D", "-1.00"), ("76.UNID", "C", "-1.00")], InvalidLine),
        ([("51", "D", "1.001"), ("76.UNID", "C", "1.001")], InvalidLine),
        ([("51", "X", "1.00"), ("76.UNID", "C", "1.00")], InvalidLine),
    ],
)
def test_invalid_entries_are_refused_before_reaching_the_database(lines, error):
    specs = [
        LineSpec(account=account_get_by_code(code=code), side=side, amount=Decimal(amount))
        for code, side, amount in lines
    ]

    with pytest.raises(error):
        journal_entry_post(kind=EntryKind.MANUAL, lines=specs)

    assert not BalanceDelta.objects.exists()


def test_reversal_mirrors_the_entry_and_restores_balances():
    organization = OrganizationFactory()
    entry = _receipt(organization.account, "75.50")

    reversal = journal_entry_reverse(entry=entry, reason="Paid by mistake")

    assert reversal.kind == EntryKind.REVERSAL
    assert reversal.reverses == entry
    assert reversal.reason == "Paid by mistake"
    mirrored = {(line.account_id, line.side, line.amount) for line in reversal.lines.all()}
    assert mirrored == {
        (line.account_id, Side.CREDIT if line.side == Side.DEBIT else Side.DEBIT, line.amount)
        for line in entry.lines.all()
    }
    assert account_balance_get(account=organization.account) == 0


def test_an_entry_is_reversed_at_most_once():
    entry = _receipt(OrganizationFactory().account)
    journal_entry_reverse(entry=entry, reason="first")

    with pytest.raises(AlreadyReversed):
        journal_entry_reverse(entry=entry, reason="second")


def test_a_reversal_cannot_be_reversed():
    reversal = journal_entry_reverse(entry=_receipt(OrganizationFactory().account), reason="x")

    with pytest.raises(NotReversible):
        journal_entry_reverse(entry=reversal, reason="undo")


def test_reversal_needs_a_reason():
    with pytest.raises(NotReversible):
        journal_entry_reverse(entry=_receipt(OrganizationFactory().account), reason="  ")


def test_reclassification_moves_an_unidentified_receipt():
    suspense = account_get_by_code(code="76.UNID")
    receipt = _receipt(suspense, "60.00", party="7707083893")
    organization = OrganizationFactory(inn="5001007322")

    moved = journal_entry_reclassify(
        entry=receipt, to_account=organization.account, reason="Identified by phone"
    )

    assert moved.reclassifies == receipt
    assert account_balance_get(account=suspense) == 0
    assert account_balance_get(account=organization.account) == Decimal("60.00")
    assert not suspense_receipts_unallocated().exists()


def test_reclassified_receipt_cannot_be_reclassified_or_reversed():
    receipt = _receipt(account_get_by_code(code="76.UNID"), party="7707083893")
    target = OrganizationFactory().account
    journal_entry_reclassify(entry=receipt, to_account=target, reason="found")

    with pytest.raises(NotReclassifiable):
        journal_entry_reclassify(entry=receipt, to_account=target, reason="again")
    with pytest.raises(NotReversible):
        journal_entry_reverse(entry=receipt, reason="oops")


def test_only_suspense_receipts_can_be_reclassified():
    organization = OrganizationFactory()
    receipt = _receipt(organization.account)

    with pytest.raises(NotReclassifiable):
        journal_entry_reclassify(
            entry=receipt, to_account=OrganizationFactory().account, reason="x"
        )


def test_reversed_receipt_is_no_longer_unallocated():
    receipt = _receipt(account_get_by_code(code="76.UNID"), party="7707083893")
    journal_entry_reverse(entry=receipt, reason="returned to payer")

    assert not suspense_receipts_unallocated(party="7707083893").exists()
    with pytest.raises(NotReclassifiable):
        journal_entry_reclassify(
            entry=receipt, to_account=OrganizationFactory().account, reason="x"
        )


def test_fold_consolidates_deltas_without_changing_any_balance():
    organization = OrganizationFactory()
    income = AccountFactory()
    for amount in ("1.10", "2.20", "3.30"):
        _receipt(organization.account, amount)
    before = {a.code: a for a in trial_balance_get()}

    folded = account_balances_fold()

    assert folded == 6
    assert not BalanceDelta.objects.exists()
    assert account_balance_get(account=organization.account) == Decimal("6.60")
    assert account_balance_get(account=income) == 0
    assert {a.code: a for a in trial_balance_get()} == before


def test_fold_in_small_batches_folds_everything():
    organization = OrganizationFactory()
    for _ in range(7):
        _receipt(organization.account, "1.00")

    assert account_balances_fold(batch_size=3) == 14
    assert account_balance_get(account=organization.account) == Decimal("7.00")


@pytest.mark.books_tampered
def test_fold_skips_an_account_whose_sum_it_cannot_store_and_folds_the_others(caplog):
    from accounting.models import AccountBalance, BalanceDelta

    broken = OrganizationFactory().account
    healthy = OrganizationFactory().account
    huge = Decimal("9" * 36 + ".00")  # two of them exceed numeric(38,2)
    BalanceDelta.objects.bulk_create(
        [
            BalanceDelta(account=broken, amount=huge),
            BalanceDelta(account=broken, amount=huge),
            BalanceDelta(account=healthy, amount=Decimal("10.00")),
        ]
    )

    folded = account_balances_fold(batch_size=2)

    assert folded == 1
    assert AccountBalance.objects.get(account=healthy).balance == Decimal("10.00")
    assert BalanceDelta.objects.filter(account=broken).count() == 2  # left pending, exact
    assert not AccountBalance.objects.filter(account=broken).exists()
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and f"id={broken.pk}" in errors[0].getMessage()


def _scans_of(plan: dict, table: str):
    if plan.get("Relation Name") == table:
        yield plan
    for child in plan.get("Plans", []):
        yield from _scans_of(child, table)


def test_fold_reads_each_delta_once_whatever_the_statistics():
    """The delta table is a queue, so ANALYZE nearly always finds it empty. With statistics
    like that, the fold must still read each pending delta once, not once per delta."""
    from django.db import connection

    from accounting import services

    organization = OrganizationFactory()
    # A table of dead rows and no live one, as after a busy hour's folds: zero deltas
    # (they change no balance), folded away, then ANALYZE.
    BalanceDelta.objects.bulk_create(
        BalanceDelta(account=organization.account, amount=Decimal(0)) for _ in range(20_000)
    )
    account_balances_fold()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounting_balancedelta")
    for _ in range(30):
        _receipt(organization.account, "1.00")

    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + services._FOLD_SQL.format(only_account=""),
            {"limit": 1000, "skip": [], "account": None},
        )
        (plan,) = cursor.fetchone()[0]

    scans = list(_scans_of(plan["Plan"], "accounting_balancedelta"))
    assert scans and all(scan["Actual Loops"] == 1 for scan in scans), scans
    assert not BalanceDelta.objects.exists()
    assert account_balance_get(account=organization.account) == Decimal("30.00")
