"""Hot-path statements: prepared once per connection, run on the raw psycopg connection."""

import psycopg
from django.db import connection


def prepared_rows(sql: str, params: list) -> list[tuple]:
    """Rows of `sql`, a server-side prepared statement (parsed and planned once per
    connection), on Django's connection; database errors surface as Django's. For the few
    statements that run on every request, where the ORM's compilation costs more than the
    query."""
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchall()
