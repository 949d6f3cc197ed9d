class LedgerError(Exception):
    """A posting that the ledger refuses."""


class UnbalancedEntry(LedgerError):
    pass


class InvalidLine(LedgerError):
    pass


class AlreadyReversed(LedgerError):
    pass


class NotReversible(LedgerError):
    pass


class NotReclassifiable(LedgerError):
    pass
