"""The accountants' view of the ledger: review, reverse, reclassify, export; never edit."""

from accounting.admin.accounts import AccountAdmin
from accounting.admin.journal import JournalEntryAdmin, JournalLineInline

__all__ = ["AccountAdmin", "JournalEntryAdmin", "JournalLineInline"]
