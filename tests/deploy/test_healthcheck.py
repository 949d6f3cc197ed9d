"""docker/healthcheck.py against a local HTTP server and a fake beat schedule."""

import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.deploy.compose_files import ROOT, load_script


@pytest.fixture(scope="module")
def healthcheck():
    return load_script(ROOT / "docker" / "healthcheck.py", "docker_healthcheck")


class _HealthHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the name http.server dispatches to)
        self.send_response({"/healthz": 200, "/readyz": 503}.get(self.path, 404))
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def health_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HealthHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_http_check_passes_on_2xx(healthcheck, health_server):
    assert healthcheck.check_http([f"{health_server}/healthz"]) is None
    assert healthcheck.main(["http", f"{health_server}/healthz"]) == 0


def test_http_check_fails_on_503(healthcheck, health_server):
    assert "503" in healthcheck.check_http([f"{health_server}/healthz", f"{health_server}/readyz"])
    assert healthcheck.main(["http", f"{health_server}/readyz"]) == 1


def test_http_check_fails_when_nothing_listens(healthcheck):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert healthcheck.check_http([f"http://127.0.0.1:{port}/healthz"], timeout=2) is not None


def test_beat_check_follows_the_schedule_file_age(healthcheck, tmp_path):
    assert "no celerybeat-schedule" in healthcheck.check_beat(tmp_path, max_age=60)
    schedule = tmp_path / "celerybeat-schedule.db"
    schedule.write_bytes(b"")
    assert healthcheck.check_beat(tmp_path, max_age=60) is None
    stale = time.time() - 120
    os.utime(schedule, (stale, stale))
    assert "last written" in healthcheck.check_beat(tmp_path, max_age=60)


def test_worker_check_pings_only_this_containers_worker(healthcheck):
    command = healthcheck.worker_ping_command("abc123", timeout=5)
    assert command[1:] == [
        "-m", "celery", "-A", "settings", "inspect", "ping",
        "--destination", "celery@abc123", "--timeout", "5",
    ]  # fmt: skip


def test_healthcheck_without_a_mode_prints_usage(healthcheck, capsys):
    assert healthcheck.main([]) == 2
    assert "healthcheck.py http" in capsys.readouterr().err
