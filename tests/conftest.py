import pytest

from accounting.services import chart_of_accounts_seed
from tests.books import assert_books_balanced
from tests.servers import database_url_of, gunicorn_server


@pytest.fixture(autouse=True)
def _books_checked(request):
    """Seed the chart for every database test and check the books after it.

    Transactional tests truncate every table between tests, seeded accounts included, so
    the chart is seeded again (idempotently) before each test. After the test the ledger's
    invariants are re-checked from the raw journal, except for tests marked
    `books_tampered`, which corrupt the books on purpose and assert the finding themselves.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        yield
        return
    transactional = marker.kwargs.get("transaction", False)
    request.getfixturevalue("transactional_db" if transactional else "db")
    chart_of_accounts_seed()
    yield
    if request.node.get_closest_marker("books_tampered") is None:
        assert_books_balanced()


@pytest.fixture(scope="session")
def app_server(django_db_setup):
    """The app under gunicorn (2 processes x 32 threads) on the test database.

    Stopped before the test database is dropped, since it depends on django_db_setup.
    """
    from django.db import connection

    with gunicorn_server(
        database_url=database_url_of(connection.settings_dict), workers=2, threads=32
    ) as url:
        yield url
