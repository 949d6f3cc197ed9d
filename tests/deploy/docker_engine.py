"""A Docker engine for the compose smoke test: the one running, or one started here.

`engine()` returns an `Engine` when `docker info` answers, after installing Debian's
`docker.io` and starting `dockerd` if needed (as root on Debian only). `Engine.stop()` stops
the daemon only if it was started here. `Unavailable` says why no engine could be had.
Every command runs with a time limit.
"""

import fcntl
import os
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DOCKERD_LOG = Path("/var/log/bank-webhook-ledger-dockerd.log")
LOCK_FILE = Path("/var/lock/bank-webhook-ledger-compose-live.lock")
START_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 60
APT_TIMEOUT_SECONDS = 900


class Unavailable(Exception):
    """No Docker engine can be had on this machine; the message says why."""


def run(command: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run with a time limit, text output captured unless redirected."""
    kwargs.setdefault("capture_output", "stdout" not in kwargs and "stderr" not in kwargs)
    return subprocess.run(command, timeout=timeout, text=True, check=False, **kwargs)


def docker_cli() -> str | None:
    return shutil.which("docker")


def engine_answers(timeout: float = 20) -> bool:
    cli = docker_cli()
    if cli is None:
        return False
    try:
        return run([cli, "info", "--format", "{{.ServerVersion}}"], timeout).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def apt_install(*packages: str) -> None:
    """Install Debian packages (apt-get update first); Unavailable if that cannot be done."""
    if shutil.which("apt-get") is None:
        raise Unavailable(f"no apt-get to install {', '.join(packages)}")
    if os.geteuid() != 0:
        raise Unavailable(f"installing {', '.join(packages)} needs root")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        update = run(["apt-get", "update", "-qq"], APT_TIMEOUT_SECONDS, env=environment)
        install = run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
            APT_TIMEOUT_SECONDS,
            env=environment,
        )
    except subprocess.TimeoutExpired as error:
        raise Unavailable(f"apt-get timed out installing {', '.join(packages)}") from error
    if install.returncode:
        raise Unavailable(
            f"apt-get install {' '.join(packages)} failed: "
            f"{(update.stderr + install.stderr).strip()[-800:]}"
        )


@dataclass
class Engine:
    """A Docker engine that answers; `started` is the pid of a dockerd started here, or None."""

    cli: str
    started: subprocess.Popen | None = None

    def stop(self) -> None:
        """Stop the dockerd started here (and the containerd it started); others are left."""
        process, self.started = self.started, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def why_unavailable() -> str | None:
    """Why no engine can be had here, found without installing or starting anything."""
    if os.uname().sysname != "Linux":
        return "a Docker engine is started only on Linux"
    if engine_answers():
        return None
    if os.geteuid() != 0:
        return "no Docker engine answers, and starting dockerd needs root"
    if shutil.which("dockerd") is None and shutil.which("apt-get") is None:
        return "no dockerd, and no apt-get to install docker.io"
    return None


def engine() -> Engine:
    """The running engine, or one started here; raise Unavailable saying why not."""
    reason = why_unavailable()
    if reason:
        raise Unavailable(reason)
    if engine_answers():
        return Engine(cli=docker_cli())
    if shutil.which("dockerd") is None:
        apt_install("docker.io")
    if shutil.which("dockerd") is None or docker_cli() is None:
        raise Unavailable("dockerd is still missing after installing docker.io")
    log = DOCKERD_LOG.open("ab")
    try:
        # Not the test process's environment (DATABASE_URL, Django's TZ, ...): the daemon's own.
        environment = {
            name: value
            for name, value in os.environ.items()
            if name == "PATH" or name.lower().endswith("_proxy")
        }
        process = subprocess.Popen(
            ["dockerd"], stdout=log, stderr=subprocess.STDOUT, env=environment,
            start_new_session=True,
        )  # fmt: skip
    finally:
        log.close()
    started = Engine(cli=docker_cli(), started=process)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if engine_answers(timeout=5):
            return started
        time.sleep(1)
    started.stop()
    tail = DOCKERD_LOG.read_text(errors="replace")[-1500:] if DOCKERD_LOG.exists() else ""
    raise Unavailable(f"dockerd did not answer within {START_TIMEOUT_SECONDS}s:\n{tail}")


@contextmanager
def machine_lock(timeout: float):
    """One smoke test at a time on this machine: they share the engine, images and names."""
    LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
    # Read-only is enough for flock, so a file another user created serves too.
    with open(os.open(LOCK_FILE, os.O_RDONLY | os.O_CREAT, 0o644)) as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise Unavailable(
                        f"another compose smoke test held {LOCK_FILE} for {timeout:.0f}s"
                    ) from None
                time.sleep(2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
