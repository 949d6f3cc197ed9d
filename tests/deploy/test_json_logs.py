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
