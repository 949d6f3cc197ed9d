"""The chart of accounts: the system accounts every ledger has, and organizations' accounts.

This is the one definition of the system accounts' codes: the migrations seed the chart from
it, the services look accounts up by it, and the SQL functions receive it when loaded.
"""

from dataclasses import dataclass

from accounting.models import AccountType


@dataclass(frozen=True)
class SystemAccount:
    code: str
    name: str
    type: str


# Dr on every incoming payment: money the bank holds for the service.
BANK_CLEARING = SystemAccount("51", "Bank clearing", AccountType.ASSET)
# Cr on a payment from an INN with no organization yet (suspense), until reclassified.
UNIDENTIFIED_RECEIPTS = SystemAccount(
    "76.UNID", "Unidentified receipts (suspense)", AccountType.LIABILITY
)
SYSTEM_ACCOUNTS = (BANK_CLEARING, UNIDENTIFIED_RECEIPTS)

# Each organization's liability account is this prefix plus its INN.
ORGANIZATION_ACCOUNT_PREFIX = "62."


def organization_account_code(inn: str) -> str:
    return f"{ORGANIZATION_ACCOUNT_PREFIX}{inn}"
