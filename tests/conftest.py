import pytest

from accounting.services import chart_of_accounts_seed
from tests.books import assert_books_balanced


@pytest.fixture(autouse=True)
def _books_checked(request):
    """Seed the chart for every database test and check the books after it.

    Transactional tests truncate every table between tests, seeded accounts included, so
    the chart is seeded again (idempotently) before each test. After the test the ledger's
    invariants are re-checked from the raw journal.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        yield
        return
    transactional = marker.kwargs.get("transaction", False) or "live_server" in (
        request.fixturenames
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    chart_of_accounts_seed()
    yield
    assert_books_balanced()
