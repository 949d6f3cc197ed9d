"""The brief's compose stack, started from a copy of this project for the smoke test.

`Stack` copies the project (without local state) into a directory of its own, writes `.env`
from `.env_example` with fresh secrets for its placeholders, the settings of a local try-out
over plain HTTP (SMOKE_SETTINGS) and free host ports, and runs Docker Compose v2 there under a
project name of its own, so a developer's `.env`, stack and volumes are never touched. Every
command and every wait has a time limit.
"""

import http.cookiejar
import json
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.deploy.compose_files import (
    ENV_EXAMPLE,
    ROOT,
    load_compose,
    load_script,
    variable_references,
)

PROJECT = "bank-webhook-ledger-smoke"
# Left out of the copy: local state, and what no container uses.
NOT_COPIED = {".git", ".venv", "venv", "var", ".env", "__pycache__", ".pytest_cache",
              ".ruff_cache", ".mypy_cache", "node_modules", "htmlcov"}  # fmt: skip
# A placeholder of .env_example, as the entrypoint refuses it: "CHANGE-ME-owner-password".
PLACEHOLDER = re.compile(
    re.escape(load_script(ROOT / "bin" / "service", "bin_service").PLACEHOLDER) + r"[A-Za-z0-9._-]*"
)
# What the README says a try-out on this machine over plain http://localhost needs, and the
# bank imitation (off by default), which the smoke test uses.
SMOKE_SETTINGS = {"DJANGO_SECURE_SSL_REDIRECT": "false", "BANK_IMITATION_ENABLED": "true"}
HTTP_TIMEOUT_SECONDS = 15
# (step, seconds) of every Stack in this test run, shown in pytest's summary (conftest.py).
TIMINGS: list[tuple[str, float]] = []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("0.0.0.0", 0))  # noqa: S104 (compose publishes some ports on every interface)
        return probe.getsockname()[1]


def host_port_variables() -> list[str]:
    """The variables docker-compose.yml takes its published host ports from."""
    names = set()
    for service in load_compose()["services"].values():
        for port in service.get("ports", []):
            published = str(port).rsplit(":", 1)[0] if ":" in str(port) else ""
            names |= {name for name, _ in variable_references(published)}
    return sorted(names)


def smoke_env_text(ports: dict[str, int]) -> tuple[str, dict[str, str]]:
    """.env_example with each placeholder replaced by a fresh secret (the same placeholder by
    the same secret: the app's password in DATABASE_URL and POSTGRES_APP_PASSWORD), and
    SMOKE_SETTINGS and the host ports set."""
    fresh: dict[str, str] = {}

    def secret(match: re.Match) -> str:
        # Letters, digits, '-' and '_': fit for URLs unescaped, as .env_example asks.
        return fresh.setdefault(match.group(0), secrets.token_urlsafe(40))

    values, lines = {}, []
    for line in ENV_EXAMPLE.read_text().splitlines():
        name, separator, value = line.partition("=")
        if separator and not line.startswith("#"):
            value = PLACEHOLDER.sub(secret, value)
            value = str(ports.get(name, SMOKE_SETTINGS.get(name, value)))
            values[name] = value
            line = f"{name}={value}"
        lines.append(line)
    missing = sorted((set(ports) | set(SMOKE_SETTINGS)) - set(values))
    assert not missing, f"variables not in .env_example: {missing}"
    assert fresh, "no placeholder in .env_example"
    return "\n".join(lines) + "\n", values


class LoopbackCookiePolicy(http.cookiejar.DefaultCookiePolicy):
    """Browsers treat http://localhost as a secure context and send it Secure cookies (the
    service's session and CSRF cookies are Secure by default); so does this client, for
    loopback addresses only."""

    def return_ok_secure(self, cookie, request):
        host = urllib.parse.urlsplit(request.full_url).hostname
        return host in ("127.0.0.1", "localhost", "::1") or super().return_ok_secure(
            cookie, request
        )


@dataclass
class Http:
    """A small HTTP client with cookies and time limits; only for 127.0.0.1."""

    base: str
    cookies: http.cookiejar.CookieJar = field(
        default_factory=lambda: http.cookiejar.CookieJar(LoopbackCookiePolicy())
    )
    # Sent with every request unless the request names them itself (e.g. Accept-Language).
    default_headers: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        """(status, headers, body) of one request; HTTP errors are answers, not exceptions."""
        headers = {**self.default_headers, **(headers or {})}
        request = urllib.request.Request(
            self.base + path, data=body, headers=headers, method=method
        )
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        try:
            with opener.open(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post_json(self, path: str, payload, headers=None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", **(headers or {})}
        return self.request("POST", path, body=body, headers=headers)

    def post_form(self, path: str, fields: dict[str, str]):
        body = urllib.parse.urlencode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Referer": self.base + path}
        return self.request("POST", path, body=body, headers=headers)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies if c.name == name), None)


class StackError(AssertionError):
    pass


class Stack:
    """The project in `directory`, with .env from smoke_env_text(), or `env_text` as given."""

    def __init__(
        self,
        directory: Path,
        compose: list[str],
        project: str = PROJECT,
        env_text: str | None = None,
    ):
        self.directory = directory / "project"
        self.home = directory / "home"
        self.compose_command = compose
        self.project = project
        self.ports = {name: free_port() for name in host_port_variables()}
        if env_text is None:
            self.env_text, self.env = smoke_env_text(self.ports)
        else:
            self.env_text, self.env = env_text, {}
        self.timings = TIMINGS

    # --- the project copy and Docker Compose ------------------------------------------------

    def write_project(self) -> None:
        shutil.copytree(
            ROOT, self.directory, ignore=lambda _, names: [n for n in names if n in NOT_COPIED]
        )
        (self.directory / ".env").write_text(self.env_text)
        self.home.mkdir(parents=True, exist_ok=True)

    def compose(
        self, *args: str, timeout: float, check: bool = True
    ) -> subprocess.CompletedProcess:
        """`docker-compose ARGS` in the project copy, with a clean environment."""
        environment = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                       "HOME": str(self.home)}  # fmt: skip
        try:
            result = subprocess.run(
                [*self.compose_command, "--project-name", self.project, "--project-directory",
                 str(self.directory), *args],
                cwd=self.directory, env=environment, capture_output=True, text=True,
                timeout=timeout,
            )  # fmt: skip
        except subprocess.TimeoutExpired as error:
            raise StackError(f"docker-compose {' '.join(args)} took over {timeout}s") from error
        if check and result.returncode:
            raise StackError(
                f"docker-compose {' '.join(args)} exited {result.returncode}:\n"
                f"{(result.stdout + result.stderr)[-6000:]}"
            )
        return result

    def services(self) -> list[dict]:
        """`docker-compose ps -a` as dicts (Service, State, Health, ExitCode, ...)."""
        output = self.compose("ps", "-a", "--format", "json", timeout=60).stdout.strip()
        if output.startswith("["):
            return json.loads(output)
        return [json.loads(line) for line in output.splitlines() if line.strip()]

    def config(self) -> dict:
        return json.loads(self.compose("config", "--format", "json", timeout=60).stdout)

    def logs(self, service: str, timestamps: bool = False) -> str:
        options = ["--timestamps"] if timestamps else []
        return self.compose(
            "logs", "--no-color", "--no-log-prefix", *options, service, timeout=60
        ).stdout

    def exec(self, service: str, *command: str, timeout: float = 120, check: bool = True):
        return self.compose("exec", "-T", service, *command, timeout=timeout, check=check)

    def host_port(self, service: str, port: int) -> int:
        address = self.compose("port", service, str(port), timeout=30).stdout.strip()
        return int(address.rsplit(":", 1)[1])

    def http(self, service: str, port: int) -> Http:
        return Http(f"http://127.0.0.1:{self.host_port(service, port)}")

    # --- lifecycle -------------------------------------------------------------------------

    @contextmanager
    def timed(self, step: str):
        started = time.monotonic()
        yield
        self.timings.append((step, time.monotonic() - started))

    def up(self, timeout: float) -> None:
        with self.timed("up -d --build"):
            try:
                self.compose("up", "-d", "--build", timeout=timeout)
            except StackError as error:
                raise StackError(f"{error}\n{self.failures()}") from None

    def failures(self) -> str:
        """The logs of the services that exited with an error or are unhealthy."""
        failed = [
            s["Service"]
            for s in self.services()
            if (s["State"] == "exited" and s.get("ExitCode")) or s.get("Health") == "unhealthy"
        ]
        return "\n".join(f"--- {name}:\n{self.logs(name)[-6000:]}" for name in sorted(failed))

    def restart(self, *services: str, timeout: float) -> None:
        with self.timed(f"restart {' '.join(services)}"):
            self.compose("restart", *services, timeout=timeout)

    def down(self) -> None:
        with self.timed("down -v"):
            self.compose("down", "-v", "--remove-orphans", "--timeout", "20", timeout=300)

    def wait_ready(self, timeout: float, one_shot: set[str]) -> list[dict]:
        """Wait until every service is healthy and each one-shot job has exited 0."""
        expected = set(self.config()["services"])
        deadline = time.monotonic() + timeout
        started = time.monotonic()
        while True:
            states = {s["Service"]: s for s in self.services()}
            problems = []
            for name in sorted(expected):
                state = states.get(name)
                if state is None:
                    problems.append(f"{name}: no container")
                elif name in one_shot:
                    if state["State"] != "exited":
                        problems.append(f"{name}: {state['State']}")
                    elif state.get("ExitCode"):
                        raise StackError(f"{name} exited {state['ExitCode']}:\n{self.logs(name)}")
                elif state["State"] != "running" or state.get("Health") != "healthy":
                    if state["State"] == "exited" or state.get("Health") == "unhealthy":
                        raise StackError(
                            f"{name} is {state['State']} ({state.get('Health')}):\n"
                            f"{self.logs(name)[-6000:]}"
                        )
                    problems.append(f"{name}: {state['State']} ({state.get('Health') or '-'})")
            if not problems:
                self.timings.append(("until every service is healthy", time.monotonic() - started))
                return list(states.values())
            if time.monotonic() > deadline:
                raise StackError(f"not ready after {timeout}s: {'; '.join(problems)}")
            time.sleep(2)


def wait_for(condition, timeout: float, interval: float = 1.0, message: str = "condition"):
    """condition()'s first truthy value within timeout seconds; StackError otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise StackError(f"{message}: not seen within {timeout}s")
        time.sleep(interval)
