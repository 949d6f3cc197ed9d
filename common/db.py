"""Hot-path statements: prepared once per connection, run on the raw psycopg connection."""

from contextlib import contextmanager

import psycopg
from django.db import connection, transaction


def prepared_rows(sql: str, params: list) -> list[tuple]:
    """Rows of `sql`, a server-side prepared statement (parsed and planned once per
    connection), on Django's connection; database errors surface as Django's. For the few
    statements that run on every request, where the ORM's compilation costs more than the
    query."""
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchall()


@contextmanager
def snapshot():
    """Several reads from one snapshot of the database: a REPEATABLE READ, read-only
    transaction, or the caller's transaction when there is one (which then decides)."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield
