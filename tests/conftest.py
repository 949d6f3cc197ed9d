import contextlib

import psycopg
import pytest
from django.conf import settings

from accounting.services import chart_of_accounts_seed
from tests.books import assert_books_balanced
from tests.servers import database_url_of, gunicorn_server
from tests.skip_policy import pytest_addoption, pytest_configure  # noqa: F401 (hooks)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counters live in the cache; each test starts without any."""
    from django.core.cache import cache

    cache.clear()
    yield


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
def _database_app_role():
    """The application's role on the test server, created (not a superuser) if missing.
    Roles belong to the server, not to a database, so it outlives the test database."""
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", [settings.DATABASE_APP_ROLE]
        ).fetchone()
        if not exists:
            # DuplicateObject: created meanwhile by another test run on the same server.
            with contextlib.suppress(psycopg.errors.DuplicateObject):
                conn.execute(
                    f'CREATE ROLE "{settings.DATABASE_APP_ROLE}" LOGIN NOSUPERUSER NOCREATEDB '
                    "NOCREATEROLE"
                )


@pytest.fixture(scope="session")
def django_db_setup(_database_app_role, django_db_setup):
    """The test database, migrated by the owner, who grants the application's role its
    privileges after the migrations (common/roles.py); the role exists before that."""
    return django_db_setup


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


@pytest.fixture
def accountant(client):
    """A test client logged in as a staff user in the Accountant group."""
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("accountant", password="s3cret-pass", is_staff=True)
    user.groups.add(Group.objects.get(name="Accountant"))
    client.force_login(user)
    return client
