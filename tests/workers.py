"""A real Celery worker in a child process, on the test database and the test broker."""

import contextlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]


def purge_broker() -> None:
    """Drop messages left on the test broker by earlier runs."""
    from settings.celery import app

    with app.connection_for_write() as connection:
        app.control.purge(connection=connection)


@contextlib.contextmanager
def celery_worker(*, database_url: str, log_path: Path, concurrency: int = 2, env=None):
    """Start `bin/service worker`; yield the process once it is ready; stop it on exit."""
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bin" / "service"), "worker",
         "--concurrency", str(concurrency), "--pool", "prefork", "--without-heartbeat",
         "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            **(env or {}),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for(lambda: "ready." in log_path.read_text(), timeout=60, what="worker ready")
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


@contextlib.contextmanager
def celery_beat(*, database_url: str, var_dir: Path, log_path: Path, env=None):
    """Start `bin/service beat` (its schedule file in var_dir); yield it once it runs."""
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bin" / "service"), "beat"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "SERVICE_VAR_DIR": str(var_dir),
            **(env or {}),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: "beat: Starting..." in log_path.read_text(), timeout=60, what="beat")
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


def wait_for(condition, *, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def wait_for_task(log_path: Path, task_id: str, *, timeout: float) -> str:
    """Wait until the worker logged task `task_id` as succeeded; return what it returned."""
    pattern = re.compile(rf"\[{re.escape(task_id)}\] succeeded in [0-9.]+s: (.*)$", re.M)
    match = wait_for(
        lambda: pattern.search(log_path.read_text()), timeout=timeout, what=f"task {task_id}"
    )
    return match.group(1)


def logged_change_ids(log_text: str) -> list[int]:
    """Ids of the balance changes the worker wrote to the balance-change log, in order."""
    return [int(match) for match in re.findall(r"balance change id=(\d+) ", log_text)]


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []
