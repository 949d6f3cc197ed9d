"""The accountants' view of the ledger: review, reverse, reclassify, export; never edit."""

from accounting.admin.accounts import AccountAdmin
from accounting.admin.changes import BalanceChangeAdmin, BalanceDeltaAdmin
from accounting.admin.journal import JournalEntryAdmin, JournalLineInline

__all__ = [
    "AccountAdmin",
    "BalanceChangeAdmin",
    "BalanceDeltaAdmin",
    "JournalEntryAdmin",
    "JournalLineInline",
]
