"""The apps keep to the dependency direction of docs/architecture.md."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ["common", "accounting", "organizations", "webhooks", "bankstatements", "reconciliation"]
# What each app may import from the project (settings only through django.conf).
ALLOWED = {
    "common": set(),
    "accounting": {"common"},
    "organizations": {"common", "accounting"},
    "webhooks": {"common", "accounting", "organizations"},
    "bankstatements": {"common", "accounting", "organizations", "webhooks"},
    "reconciliation": {"common", "accounting", "organizations", "webhooks", "bankstatements"},
}


def _project_imports(app: str) -> dict[str, set[str]]:
    """{imported top-level project package: the files of `app` that import it}."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / app).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in (*APPS, "settings", "bench", "tests") and top != app:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("app", APPS)
def test_app_imports_only_what_it_depends_on(app):
    imports = _project_imports(app)

    forbidden = {top: files for top, files in imports.items() if top not in ALLOWED[app]}
    assert forbidden == {}


def test_settings_package_holds_only_settings_urls_wsgi_asgi_and_celery():
    modules = {path.name for path in (ROOT / "settings").glob("*.py")}

    assert modules <= {"__init__.py", "settings.py", "urls.py", "wsgi.py", "asgi.py", "celery.py"}


def test_importing_the_settings_creates_no_directories(tmp_path):
    import subprocess
    import sys

    folder = tmp_path / "broker"
    subprocess.run(
        [sys.executable, "-c", "import settings.settings"],
        cwd=ROOT,
        env={
            "CELERY_BROKER_URL": "",
            "CELERY_FILESYSTEM_BROKER_DIR": str(folder),
            "DJANGO_SECRET_KEY": "x",
            "PATH": "",
        },
        check=True,
        timeout=60,
    )

    assert not folder.exists()
