"""Hot-path statements: prepared once per connection, run on the raw psycopg connection."""

from contextlib import contextmanager
from dataclasses import dataclass

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


@dataclass(frozen=True)
class BoundedCount:
    """A count that stopped at `limit`: `more` is true when there are more rows than it."""

    count: int
    more: bool


def bounded_count(queryset, *, limit: int) -> BoundedCount:
    """How many rows `queryset` has, counting at most `limit` + 1 of them: on a table of
    millions of rows it reads no more than that many index entries."""
    counted = queryset.order_by().values("pk")[: limit + 1].count()
    return BoundedCount(min(counted, limit), counted > limit)
