"""`python3 dev.py run` stops everything it started when only its own pid is signalled, as a
supervisor or an IDE does: gunicorn's processes, the Celery worker's and beat."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.http import http_request
from tests.servers import ROOT, database_url_of, free_port
from tests.workers import children_of, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

# The interpreter outside the virtualenv, as `python3 dev.py run` is typed; dev.py itself
# re-runs in .venv (installed and stamped by `dev.py test`), so every level is covered.
SYSTEM_PYTHON = Path(sys.base_prefix) / "bin" / "python3"


def _descendants(pid: int) -> set[int]:
    found, pending = set(), [pid]
    while pending:
        for child in children_of(pending.pop()):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def _serving(port: int) -> bool:
    try:
        return http_request(f"http://127.0.0.1:{port}/healthz", timeout=2)[0] == 200
    except OSError:  # not listening yet
        return False


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_dev_py_run_alone_stops_all_its_children(tmp_path, signum):
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url_of(connection.settings_dict, as_owner=True),
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "CELERY_WORKER_CONCURRENCY": "1",
        "SERVICE_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "METRICS_MULTIPROC_ROOT": str(tmp_path / "metrics"),
        "DJANGO_SETTINGS_MODULE": "settings.settings",
    }
    log = (tmp_path / "run.log").open("w")
    # Its own session, so that no signal of the test's terminal reaches it, and so that
    # whatever is left can be cleaned up below.
    process = subprocess.Popen(
        [str(SYSTEM_PYTHON), str(ROOT / "dev.py"), "run"],
        cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(
            lambda: process.poll() is None and _serving(port),
            timeout=180,
            what="dev.py run serving",
            interval=1,
        )
        # web (gunicorn's master and 2 workers), the worker (with its pool) and beat.
        wait_for(lambda: len(_descendants(process.pid)) >= 7, timeout=60, what="all children")
        started = _descendants(process.pid)

        os.kill(process.pid, signum)

        assert process.wait(timeout=90) == 0
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [pid for pid in started if _alive(pid)] == []
    finally:
        # Whatever is left of the session it started (also once dev.py itself has exited).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        log.close()
