"""INN (Russian taxpayer number) format and checksum."""

import re

INN_PATTERN = re.compile(r"\A(?:[0-9]{10}|[0-9]{12})\Z")
INN_FORMAT_MESSAGE = "INN must be 10 or 12 digits."

_WEIGHTS_10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_WEIGHTS_12_FIRST = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_WEIGHTS_12_SECOND = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def inn_format_valid(inn: str) -> bool:
    return isinstance(inn, str) and INN_PATTERN.fullmatch(inn) is not None


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_checksum_valid(inn: str) -> bool:
    """Whether the INN's check digits are right. Not enforced on intake: the bank is the
    authority, and a failing checksum is only a warning for accountants."""
    if not inn_format_valid(inn):
        return False
    if len(inn) == 10:
        return _check_digit(inn, _WEIGHTS_10) == int(inn[9])
    return _check_digit(inn, _WEIGHTS_12_FIRST) == int(inn[10]) and _check_digit(
        inn, _WEIGHTS_12_SECOND
    ) == int(inn[11])


def inn_with_check_digit(first_nine: str) -> str:
    """The 10-digit INN whose first nine digits are `first_nine`, with its check digit."""
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise ValueError("need nine digits")
    return first_nine + str(_check_digit(first_nine, _WEIGHTS_10))
