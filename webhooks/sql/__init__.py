"""The webhook intake's SQL: see common/sql.py for how these files are versioned and loaded."""

from pathlib import Path

from common.sql import SqlFolder


def _names():
    from accounting.sql import SQL as ACCOUNTING_SQL
    from common.locks import LockNamespace
    from webhooks.models import DeliveryResult, PaymentSource

    return {
        **ACCOUNTING_SQL.names(),
        "DeliveryResult": DeliveryResult,
        "LockNamespace": LockNamespace,
        "PaymentSource": PaymentSource,
    }


SQL = SqlFolder(Path(__file__).parent, _names)
