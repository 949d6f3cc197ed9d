"""bin/service with LOG_FORMAT=json (the containers): one JSON object per line from every
process, gunicorn's and the prepare step's included, in the same fields as Django's."""

import json
import os
import subprocess
import sys

import pytest

from settings.settings import LOGGING
from tests.deploy.compose_files import ROOT, excluded_from_context, load_script

LOGGING_JSON = ROOT / "docker" / "logging.json"


@pytest.fixture
def service(monkeypatch):
    def load(log_format: str):
        monkeypatch.setenv("LOG_FORMAT", log_format)
        return load_script(ROOT / "bin" / "service", "bin_service_json")

    return load


def test_gunicorn_and_prepare_format_records_as_django_does():
    config = json.loads(LOGGING_JSON.read_text())
    ours, django = config["formatters"]["json"], LOGGING["formatters"]["json"]
    assert ours["()"] == django["()"]
    assert ours["format"] == django["format"]
    assert ours["rename_fields"] == django["rename_fields"]
    # Outside Django no request is being served: the context fields are "-", as Django's are then.
    assert ours["static_fields"] == {"request_id": "-", "operation_id": "-"}
    assert set(config["loggers"]) == {"gunicorn.error", "gunicorn.access"}
    assert not excluded_from_context("docker/logging.json")


def test_json_mode_configures_gunicorn_and_quiets_celery_banners(service):
    module = service("json")
    web = module.web([])
    assert web[web.index("--log-config-json") + 1] == str(LOGGING_JSON)
    for command in (module.worker([]), module.beat([]), module.flower([])):
        assert command[2:6] == ["celery", "-A", "settings", "--quiet"]


def test_plain_mode_keeps_gunicorn_and_celery_as_they_are(service):
    module = service("plain")
    assert "--log-config-json" not in module.web([])
    for command in (module.worker([]), module.beat([]), module.flower([])):
        assert "--quiet" not in command


def test_access_line_carries_the_request_id(service):
    web = service("plain").web([])
    assert web[web.index("--access-logformat") + 1].endswith("request_id=%({x-request-id}o)s")


def test_management_command_output_becomes_json_records():
    script = (
        "import importlib.machinery, importlib.util, sys\n"
        "loader = importlib.machinery.SourceFileLoader('svc', sys.argv[1])\n"
        "spec = importlib.util.spec_from_loader('svc', loader)\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "loader.exec_module(module)\n"
        "module._manage('check')\n"
    )
    environment = {**os.environ, "LOG_FORMAT": "json"}
    result = subprocess.run(
        [sys.executable, "-c", script, str(ROOT / "bin" / "service")],
        capture_output=True, text=True, env=environment, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records and all(r["logger"] == "manage.check" for r in records)
    assert any("System check identified no issues" in r["message"] for r in records)
    assert result.stderr == ""


def test_gunicorn_access_lines_are_json_records_with_the_request_id(tmp_path):
    from tests.http import http_request
    from tests.servers import free_port
    from tests.workers import wait_for

    port = free_port()
    log_path = tmp_path / "web.log"
    environment = {
        **os.environ,
        "LOG_FORMAT": "json",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "METRICS_MULTIPROC_ROOT": str(tmp_path / "metrics"),
        # As in the image, the static files' folder exists (else whitenoise warns in text).
        "DJANGO_STATIC_ROOT": str(tmp_path),
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "bin" / "service"), "web"],
            cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_for(
                lambda: (
                    http_request(f"http://127.0.0.1:{port}/healthz", timeout=2)[0] == 200
                    if "Booting worker" in log_path.read_text()
                    else False
                ),
                timeout=60,
                what="gunicorn up",
            )
            status, _, _ = http_request(
                f"http://127.0.0.1:{port}/healthz?probe=1", headers={"X-Request-Id": "probe-77"}
            )
            assert status == 200
            wait_for(lambda: "probe-77" in log_path.read_text(), timeout=10, what="access line")
        finally:
            process.terminate()
            process.wait(timeout=30)

    records = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    (access,) = [r for r in records if r.get("request_id") == "probe-77"]
    assert access["logger"] == "gunicorn.access"
    assert access["message"] == "GET /healthz 200"
    assert (access["method"], access["path"], access["query"]) == ("GET", "/healthz", "probe=1")
    assert access["status"] == 200
    assert access["duration_ms"] >= 0
    assert access["level"] == "INFO"
