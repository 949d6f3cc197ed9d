"""The ledger's SQL: see common/sql.py for how these files are versioned and loaded."""

from pathlib import Path

from common.sql import SqlFolder


def _names():
    from accounting.chart import BANK_CLEARING, UNIDENTIFIED_RECEIPTS
    from accounting.models import DEBIT_NORMAL_TYPES, AccountType, EntryKind, Side
    from common.locks import LockNamespace

    return {
        "AccountType": AccountType,
        "DEBIT_NORMAL_TYPES": DEBIT_NORMAL_TYPES,
        "EntryKind": EntryKind,
        "Side": Side,
        "BANK_CLEARING": BANK_CLEARING,
        "UNIDENTIFIED_RECEIPTS": UNIDENTIFIED_RECEIPTS,
        "LockNamespace": LockNamespace,
    }


SQL = SqlFolder(Path(__file__).parent, _names)
