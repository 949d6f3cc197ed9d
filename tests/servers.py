"""The application served by gunicorn in a child process, as in production."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn_server(
    *, database_url: str, workers: int = 2, threads: int = 1, env=None, log_path=None
):
    """Serve settings.wsgi on a free port; yield its base URL; stop it on exit. Its output
    goes to `log_path` when given, else nowhere."""
    port = free_port()
    log = log_path.open("w") if log_path is not None else subprocess.DEVNULL
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "settings.wsgi:application",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers),
            "--threads", str(threads),
            "--worker-class", "gthread" if threads > 1 else "sync",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "settings.settings",
            **(env or {}),
        },
        stdout=log,
        stderr=subprocess.STDOUT if log_path is not None else subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        if log_path is not None:
            log.close()


def database_url_of(settings_dict: dict, *, as_owner: bool = False) -> str:
    """A DATABASE_URL for the database Django is connected to (the test database), logged
    in as the application's role, as the service is; or as the owner the tests run as."""
    from django.conf import settings

    owner = settings_dict["USER"] or "postgres"
    user = owner if as_owner or not settings.DATABASE_APP_ROLE else settings.DATABASE_APP_ROLE
    host = settings_dict["HOST"] or settings_dict.get("OPTIONS", {}).get("host", "")
    port = settings_dict["PORT"] or "5432"
    if host.startswith("/"):
        return f"postgres://{user}@/{settings_dict['NAME']}?host={host}&port={port}"
    return f"postgres://{user}@{host}:{port}/{settings_dict['NAME']}"
