"""What PostgreSQL itself refuses, tried in raw SQL by the tables' owner (the test role): the
checks, the deferred entry checks and the append-only triggers. What the application's role
is refused on top (TRUNCATE, DISABLE TRIGGER) is in tests/test_database_roles.py."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from accounting.models import JournalEntry, JournalLine
from accounting.selectors import account_get_by_code
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _sql(statement: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone() if cursor.description else None


def _raw_entry(lines, line_count=None):
    """Insert an entry and lines in raw SQL in one transaction; return the entry id."""
    with transaction.atomic():
        (entry_id,) = _sql(
            "INSERT INTO accounting_journalentry (kind, memo, reference, party, line_count, reason)"
            " VALUES ('manual', 'raw', '', '', %s, '') RETURNING id",
            [len(lines) if line_count is None else line_count],
        )
        for account_id, side, amount, currency in lines:
            _sql(
                "INSERT INTO accounting_journalline (entry_id, account_id, side, amount,"
                " amount_currency) VALUES (%s, %s, %s, %s, %s)",
                [entry_id, account_id, side, amount, currency],
            )
    return entry_id


@pytest.fixture
def accounts():
    return account_get_by_code(code="51").pk, OrganizationFactory().account.pk


def test_balanced_raw_entry_commits(accounts):
    clearing, organization = accounts

    entry_id = _raw_entry([(clearing, "D", "10.00", "RUB"), (organization, "C", "10.00", "RUB")])

    assert JournalLine.objects.filter(entry_id=entry_id).count() == 2


def test_unbalanced_entry_is_refused_at_commit(accounts):
    clearing, organization = accounts

    with pytest.raises(IntegrityError, match="unbalanced"):
        _raw_entry([(clearing, "D", "10.00", "RUB"), (organization, "C", "9.99", "RUB")])

    assert JournalEntry.objects.count() == 0


@pytest.mark.parametrize(
    ("declared", "refusal"),
    [(1, 'violates check constraint "entry_has_two_lines"'), (2, "has 1 lines")],
    ids=["declared-one", "declared-two"],
)
def test_entry_with_one_line_is_refused(accounts, declared, refusal):
    clearing, _ = accounts

    with pytest.raises(IntegrityError, match=refusal):
        _raw_entry([(clearing, "D", "10.00", "RUB")], line_count=declared)

    assert JournalEntry.objects.count() == 0


def test_entry_declaring_fewer_than_two_lines_is_refused(accounts):
    clearing, _ = accounts

    with pytest.raises(IntegrityError, match="entry_has_two_lines"):
        _raw_entry([(clearing, "D", "10.00", "RUB")], line_count=1)


def test_entry_without_lines_is_refused():
    with pytest.raises(IntegrityError, match="has 0 lines"):
        _raw_entry([], line_count=2)


def test_lines_added_to_a_posted_entry_are_refused(accounts):
    clearing, organization = accounts
    entry_id = _raw_entry([(clearing, "D", "10.00", "RUB"), (organization, "C", "10.00", "RUB")])

    with (
        pytest.raises(IntegrityError, match="would have 3 lines, declared 2"),
        transaction.atomic(),
    ):
        for side in ("D", "C"):
            _sql(
                "INSERT INTO accounting_journalline (entry_id, account_id, side, amount,"
                " amount_currency) VALUES (%s, %s, %s, '5.00', 'RUB')",
                [entry_id, clearing if side == "D" else organization, side],
            )

    assert JournalLine.objects.filter(entry_id=entry_id).count() == 2


def test_line_in_another_currency_than_its_account_is_refused(accounts):
    clearing, organization = accounts

    with pytest.raises(IntegrityError, match="currency"):
        _raw_entry([(clearing, "D", "10.00", "USD"), (organization, "C", "10.00", "USD")])


@pytest.mark.parametrize("amount", ["0.00", "-10.00"])
def test_non_positive_amount_is_refused(accounts, amount):
    clearing, organization = accounts

    with pytest.raises(IntegrityError, match="line_amount_positive"):
        _raw_entry([(clearing, "C", amount, "RUB"), (organization, "D", amount, "RUB")])


def test_unknown_side_is_refused(accounts):
    clearing, organization = accounts

    with pytest.raises(IntegrityError, match="line_side_valid"):
        _raw_entry([(clearing, "X", "1.00", "RUB"), (organization, "C", "1.00", "RUB")])


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE accounting_journalline SET amount = amount + 1",
        "UPDATE accounting_journalline SET account_id = account_id",
        "DELETE FROM accounting_journalline",
        "UPDATE accounting_journalentry SET memo = 'edited'",
        "DELETE FROM accounting_journalentry",
    ],
)
def test_posted_rows_cannot_be_updated_or_deleted(accounts, statement):
    clearing, organization = accounts
    _raw_entry([(clearing, "D", "10.00", "RUB"), (organization, "C", "10.00", "RUB")])

    with pytest.raises(DatabaseError, match="is refused"), transaction.atomic():
        _sql(statement)

    assert JournalLine.objects.filter(amount=10).count() == 2


def test_account_identity_cannot_change_and_accounts_cannot_be_deleted(accounts):
    clearing, _ = accounts

    with pytest.raises(DatabaseError, match="is refused"), transaction.atomic():
        _sql("UPDATE accounting_account SET type = 'income' WHERE id = %s", [clearing])
    with pytest.raises(DatabaseError, match="is refused"), transaction.atomic():
        _sql("DELETE FROM accounting_account WHERE id = %s", [clearing])
    _sql("UPDATE accounting_account SET name = 'Bank clearing (renamed)' WHERE id = %s", [clearing])


def test_payments_and_deliveries_are_append_only(client):
    from tests.webhooks.helpers import BRIEF_PAYLOAD, post_webhook

    post_webhook(client, BRIEF_PAYLOAD)

    for statement in (
        "UPDATE webhooks_payment SET amount = 1",
        "DELETE FROM webhooks_payment",
        "UPDATE webhooks_delivery SET result = 'rejected'",
        "DELETE FROM webhooks_delivery",
    ):
        with pytest.raises(DatabaseError, match="is refused"), transaction.atomic():
            _sql(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE accounting_journalline SET amount = amount + 1",
        "DELETE FROM accounting_journalline",
        "DELETE FROM accounting_journalentry",
        "DELETE FROM accounting_balancechange",
        "UPDATE accounting_account SET code = 'x' || code",
    ],
)
def test_no_session_setting_makes_the_triggers_stand_aside(accounts, statement):
    clearing, organization = accounts
    _raw_entry([(clearing, "D", "10.00", "RUB"), (organization, "C", "10.00", "RUB")])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(array_agg(tgname), '{}') FROM pg_trigger WHERE NOT tgisinternal"
        )
        every_trigger = cursor.fetchone()[0]

    with pytest.raises(DatabaseError, match="is refused"), transaction.atomic():
        # django-pgtrigger's bypass hook, naming every trigger the database has.
        _sql(
            "SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + ",".join(every_trigger) + "}"]
        )
        _sql(statement)

    assert JournalLine.objects.filter(amount=10).count() == 2


@pytest.mark.parametrize("inn", ["123456789", "12345678901", "12345678ab", "1234567890 ", ""])
def test_organization_with_a_malformed_inn_is_refused(inn):
    (account_id,) = _sql(
        "INSERT INTO accounting_account (code, name, type, currency, created_at)"
        " VALUES ('62.raw', 'raw', 'liability', 'RUB', now()) RETURNING id"
    )

    with pytest.raises(IntegrityError, match="inn_format"), transaction.atomic():
        _sql(
            "INSERT INTO organizations_organization (inn, name, account_id, created_at)"
            " VALUES (%s, 'Raw', %s, now())",
            [inn, account_id],
        )

    assert _sql("SELECT count(*) FROM organizations_organization") == (0,)


@pytest.mark.parametrize("inn", ["1234567890", "123456789012"])
def test_organization_with_a_ten_or_twelve_digit_inn_is_accepted_in_raw_sql(inn):
    (account_id,) = _sql(
        "INSERT INTO accounting_account (code, name, type, currency, created_at)"
        " VALUES ('62.raw', 'raw', 'liability', 'RUB', now()) RETURNING id"
    )

    _sql(
        "INSERT INTO organizations_organization (inn, name, account_id, created_at)"
        " VALUES (%s, 'Raw', %s, now())",
        [inn, account_id],
    )

    assert _sql("SELECT inn FROM organizations_organization") == (inn,)


def test_entry_of_an_unknown_kind_is_refused(accounts):
    clearing, organization = accounts

    with pytest.raises(IntegrityError, match="entry_kind_valid"), transaction.atomic():
        _sql(
            "INSERT INTO accounting_journalentry (kind, memo, reference, party, line_count, reason)"
            " VALUES ('gift', 'raw', '', '', 2, '')"
        )

    assert JournalEntry.objects.count() == 0


@pytest.mark.parametrize("account_type", ["bogus", "Asset", ""])
def test_account_of_an_unknown_type_is_refused(account_type):
    with pytest.raises(IntegrityError, match="account_type_valid"), transaction.atomic():
        _sql(
            "INSERT INTO accounting_account (code, name, type, currency, created_at)"
            " VALUES ('99.raw', 'raw', %s, 'RUB', now())",
            [account_type],
        )

    assert _sql("SELECT count(*) FROM accounting_account WHERE code = '99.raw'") == (0,)
