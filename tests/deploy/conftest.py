"""Fixtures of the Docker deployment's checks: .env_example and the compose file it renders;
the compose smoke test's step timings in the summary."""

import json

import pytest

from tests.deploy.compose_files import ENV_EXAMPLE, load_compose, read_env_file, render_compose
from tests.deploy.compose_stack import TIMINGS


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def compose(env_example) -> dict:
    """docker-compose.yml interpolated with .env_example's values, as `cp .env_example .env`."""
    return load_compose(env_example)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict:
    result = render_compose(tmp_path_factory.mktemp("compose"), ENV_EXAMPLE.read_text())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("compose smoke test: time per step")
        for step, seconds in TIMINGS:
            terminalreporter.write_line(f"{seconds:7.1f}s  {step}")
