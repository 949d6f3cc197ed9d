"""Validators shared by the apps' serializers and forms."""

import unicodedata

from django.core.exceptions import ValidationError

# Control (Cc), format (Cf: bidi overrides, zero-width characters), surrogate (Cs),
# private-use (Co) and unassigned (Cn) characters, and line/paragraph separators: none
# belongs in a document number or a name, and some make text display other than it is.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def refused_character(text: str) -> str | None:
    """The first character of `text` that is not printable text, or None."""
    for char in text:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return char
    return None


def printable_text(value: str) -> None:
    """Refuse control, format and other invisible characters."""
    char = refused_character(value)
    if char is not None:
        raise ValidationError(
            f"Must not contain control or format characters (found U+{ord(char):04X}).",
            code="invalid_character",
        )
