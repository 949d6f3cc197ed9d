"""The project's translations: `locale/<language>/LC_MESSAGES/django.po`, compiled to the
`django.mo` next to it, which is committed, so that neither a fresh machine nor the image
needs GNU gettext.

    python -m common.translations           # compile every django.po into its django.mo
    python -m common.translations --check   # exit 1 if a django.mo differs from its .po

Extract new strings with `python manage.py makemessages -l ru --no-obsolete` (that one needs
GNU gettext's xgettext), translate them in the .po, then compile with this module. A test
(tests/test_translations.py) fails while a .mo is out of date with its .po.
"""

import sys
from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def catalogues() -> list[Path]:
    """Every django.po under locale/."""
    return sorted(LOCALE_DIR.glob("*/LC_MESSAGES/django.po"))


def compiled(po_path: Path) -> dict[tuple[str, str], object]:
    """What the .po says: (msgctxt, msgid) -> msgstr (or its plural forms), translated
    entries only, as gettext would compile them (no fuzzy or obsolete entries)."""
    po = polib.pofile(str(po_path))
    return {
        (entry.msgctxt or "", entry.msgid): (
            tuple(entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural))
            if entry.msgid_plural
            else entry.msgstr
        )
        for entry in po.translated_entries()
        if not entry.obsolete
    }


def read_mo(mo_path: Path) -> dict[tuple[str, str], object]:
    """What a compiled .mo holds, in the same shape as `compiled`."""
    mo = polib.mofile(str(mo_path))
    return {
        (entry.msgctxt or "", entry.msgid): (
            tuple(entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural))
            if entry.msgid_plural
            else entry.msgstr
        )
        for entry in mo
        if entry.msgid  # the header
    }


def compile_all() -> list[Path]:
    """Write each django.mo from its django.po; return the .mo paths."""
    written = []
    for po_path in catalogues():
        po = polib.pofile(str(po_path))
        mo_path = po_path.with_suffix(".mo")
        po.save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


def stale() -> list[Path]:
    """The .po files whose .mo is missing or says something else."""
    return [
        po_path
        for po_path in catalogues()
        if not po_path.with_suffix(".mo").exists()
        or read_mo(po_path.with_suffix(".mo")) != compiled(po_path)
    ]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        out_of_date = stale()
        for po_path in out_of_date:
            print(f"{po_path.with_suffix('.mo')} is out of date: run python -m common.translations")
        return 1 if out_of_date else 0
    for mo_path in compile_all():
        print(f"Compiled {mo_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
