"""SQL as code: PostgreSQL functions and hand-written triggers live in `<app>/sql/*.sql`.

Each file is one item (a function, or a trigger function with its triggers) and is
idempotent: running it installs that version whatever version of the item was there.

- `<app>/sql/<name>.sql` is the current version; its first line is `-- version: N`.
  Changing the item means editing that file (the change is a diff of the function) and
  adding a migration that installs version N+1, with version N as its reverse.
- `<app>/sql/history/<name>.v<N>.sql` keeps, unchanged, every earlier version that some
  migration installs, so old migrations still replay and reverse exactly.
- `{{ Name }}` or `{{ Name.attribute }}` placeholders are filled in from the app's Python
  definitions (account codes, result names, lock namespaces) when a file is loaded, so each
  constant is written once, in Python. Strings become quoted literals, integers numbers,
  tuples comma-separated lists.

Migrations load files with `SqlFolder.install(...)`; none holds a function body.
"""

import re
from collections.abc import Callable, Mapping
from enum import Enum
from pathlib import Path

from django.db import migrations

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")
_VERSION = re.compile(r"\A-- version: (\d+)\n")
_FUNCTION_BODY = re.compile(
    r"CREATE OR REPLACE FUNCTION\s+([a-z_][a-z0-9_]*)\s*\(.*?\bAS \$\$(.*?)\$\$",
    re.DOTALL | re.IGNORECASE,
)
_TRIGGER = re.compile(
    r"CREATE (?:CONSTRAINT )?TRIGGER\s+([a-z_][a-z0-9_]*)\s.*?\bON\s+([a-z_][a-z0-9_]*)",
    re.DOTALL | re.IGNORECASE,
)


def sql_literal(value) -> str:
    """`value` as SQL text: a quoted string, a number, or a comma-separated list of those."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        raise TypeError("booleans have no placeholder form")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, tuple | list):
        return ", ".join(sql_literal(item) for item in value)
    raise TypeError(f"no SQL literal for {value!r}")


def render(text: str, names: Mapping[str, object]) -> str:
    """Fill in every placeholder of `text`; an unknown name is an error."""

    def substitute(match: re.Match) -> str:
        head, *attributes = match.group(1).split(".")
        if head not in names:
            raise KeyError(f"unknown SQL placeholder {match.group(0)}")
        value = names[head]
        for attribute in attributes:
            value = getattr(value, attribute)
        return sql_literal(value)

    return _PLACEHOLDER.sub(substitute, text)


def function_bodies(text: str) -> dict[str, str]:
    """{function name: body between $$ and $$} of each function a rendered file creates."""
    return {name: body for name, body in _FUNCTION_BODY.findall(text)}


def triggers(text: str) -> set[tuple[str, str]]:
    """(trigger name, table) of each trigger a rendered file creates."""
    return {(name, table) for name, table in _TRIGGER.findall(text)}


class SqlFolder:
    """The `.sql` files of one app, with the Python names their placeholders may use."""

    def __init__(self, path: Path, names: Callable[[], Mapping[str, object]]):
        self.path = Path(path)
        self._names = names  # a callable: models may not be importable yet at import time

    def names(self) -> Mapping[str, object]:
        """The Python names the placeholders of this folder's files may use."""
        return self._names()

    def items(self) -> list[str]:
        """Names of the current items (files directly in the folder)."""
        return sorted(p.stem for p in self.path.glob("*.sql"))

    def current_version(self, name: str) -> int | None:
        current = self.path / f"{name}.sql"
        if not current.exists():
            return None  # a retired item: only its history remains
        match = _VERSION.match(current.read_text())
        if match is None:
            raise ValueError(f"{current} must start with '-- version: N'")
        return int(match.group(1))

    def file(self, name: str, version: int) -> Path:
        if self.current_version(name) == version:
            return self.path / f"{name}.sql"
        path = self.path / "history" / f"{name}.v{version}.sql"
        if not path.exists():
            raise FileNotFoundError(f"no version {version} of {name} in {self.path}")
        return path

    def text(self, name: str, version: int | None = None) -> str:
        """The rendered SQL of `name` at `version` (the current one by default)."""
        if version is None:
            version = self.current_version(name)
            if version is None:
                raise FileNotFoundError(f"{name} has no current version in {self.path}")
        text = _VERSION.sub("", self.file(name, version).read_text(), count=1)
        return render(text, self.names())

    def install(
        self, name: str, *, version: int, reverse_sql: str | None = None
    ) -> migrations.RunSQL:
        """A migration operation that installs `version` of `name`; its reverse installs
        the previous version, or runs `reverse_sql` (required for version 1, and prepended
        to the previous version when given for a later one, e.g. to drop a new signature)."""
        if version == 1 and reverse_sql is None:
            raise ValueError("version 1 needs reverse_sql (what removes the item)")
        forward = self.text(name, version)
        if version == 1:
            reverse = reverse_sql
        else:
            reverse = (reverse_sql or "") + self.text(name, version - 1)
        return migrations.RunSQL(forward, reverse)
