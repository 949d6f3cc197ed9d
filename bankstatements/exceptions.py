from bankstatements.parser import StatementFormatError


class StatementError(Exception):
    """A bank-statement operation that is refused."""


class StatementRefused(StatementError):
    """The file is not a statement that can be imported; `line` 0 means the whole file."""

    def __init__(self, line: int, reason: str):
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}" if line else reason)

    @classmethod
    def from_format_error(cls, error: StatementFormatError) -> "StatementRefused":
        return cls(error.line, error.reason)
