"""Every variable the settings read from the environment is in .env_example."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _names_read_by_the_settings() -> set[str]:
    """The first argument of every `env(...)` / `env.<cast>(...)` call under settings/."""
    names = set()
    for path in (ROOT / "settings").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            reader = (isinstance(func, ast.Name) and func.id == "env") or (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "env"
            )
            first = node.args[0]
            if reader and isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
    return names


def _names_in_env_example() -> set[str]:
    """Variables set in .env_example, or shown there commented out (`# NAME=value`)."""
    text = (ROOT / ".env_example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, re.M))


def test_every_setting_read_from_the_environment_is_in_env_example():
    read = _names_read_by_the_settings()

    # The reader is found where the settings are known to read: a parse that finds
    # nothing would pass this test without checking anything.
    assert {"DJANGO_SECRET_KEY", "WEBHOOK_SECRETS", "BANK_IMITATION_TIMEOUT"} <= read
    assert sorted(read - _names_in_env_example()) == []
