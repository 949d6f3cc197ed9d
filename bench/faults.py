"""Faults under load: signed webhooks from bank-like clients while one fault is injected
mid-run, then a check of the books against what the clients sent and had acknowledged.

    nice -n 19 .venv/bin/python bench/faults.py --scenario db-restart --clients 8 --duration 30
    nice -n 19 .venv/bin/python bench/faults.py --scenario all --repeat 3 --json var/faults.json
    nice -n 19 .venv/bin/python bench/faults.py --quick --scenario db-restart web-kill broker-down

Scenarios (one fault each, injected at --fault-at seconds into the load):

    db-restart       PostgreSQL stopped (fast) and started again
    db-pause         the postmaster and all its processes frozen (SIGSTOP) 10 s, then SIGCONT
    web-kill         a busy gunicorn worker killed with SIGKILL, several times
    worker-kill      the Celery worker killed with SIGKILL during a fold and during a dispatch,
                     then started again
    broker-down      Redis stopped 20 s and started again
    beat-down        beat not running during the load; started once the load is over
    lock-contention  another session holds an exclusive lock on the balance-delta table 15 s

The driver starts everything it needs on 127.0.0.1, under a temporary directory: its own
PostgreSQL cluster (initdb and pg_ctl of PG_BIN, default the newest
/usr/lib/postgresql/<version>/bin; run as the `postgres` user when the driver runs as root),
its own redis-server, and for each scenario a fresh database (a copy of one migrated
template), gunicorn (`bin/service web`), a Celery worker and beat (`bin/service worker`,
`bin/service beat`). The service connects as
the non-superuser role bank_webhook_app, as in production, with webhook signatures required.
It stops only the processes it started, by their pid, and signals nothing else.

Each client is a thread that behaves like a bank: a new payment per delivery, signed with a
fresh timestamp on every attempt; anything but 200, and time-outs and connection errors,
retried with exponential backoff (honouring Retry-After) up to --max-attempts attempts and
--max-retry-seconds; 10 % of acknowledged operations are delivered again unchanged, 1 % again
with another amount (a conflict, which must book nothing). Each keeps its own record.

After the load (and after the fault is cleared) the driver waits for the fold and the
balance-change dispatch to catch up, then checks:

    acked-booked-once    every acknowledged operation has exactly one payment, with the
                         amount and INN sent
    no-unsent-payment    no payment exists that no client sent
    balances             every organization's balance (and unidentified receipts) equals the
                         sum of its acknowledged payments
    trial-balance        total debits equal total credits
    change-log-once      every balance change is dispatched and logged by the worker exactly
                         once
    reconciliation       the reconciliation report over the run (full) is OK
    answers              every answer was 200, or 503 with Retry-After (connection errors and
                         time-outs are retried); no operation was abandoned
    (lock-contention)    no gunicorn worker timed out

A summary line per scenario run; exits 1 when a check fails, 2 when the run could not be set
up. --json writes the figures of every run; --table prints them as the rows of the table
in docs/reliability.md.
"""

import argparse
import collections
import contextlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
# Run as a script, the interpreter puts bench/ first on the path, where bench/settings.py
# would shadow the `settings` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(ROOT))

from organizations.inn import inn_with_check_digit  # noqa: E402
from webhooks.signatures import (  # noqa: E402
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_compute,
)


def _pg_bin() -> Path:
    """PG_BIN, else the newest /usr/lib/postgresql/<version>/bin (Debian's layout)."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    versions = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()),
        key=lambda p: int(p.parent.name),
    )
    return versions[-1] if versions else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()
WEBHOOK_PATH = "/api/v1/webhook/bank/"
SECRET = "fault-driver-webhook-secret-0123456789abcdef"  # noqa: S105  (the driver's own)
APP_ROLE = "bank_webhook_app"
TEMPLATE = "faults_template"
KNOWN_INNS = [inn_with_check_digit(f"78{n:07d}") for n in range(1, 21)]
UNKNOWN_INNS = [inn_with_check_digit(f"98{n:07d}") for n in range(1, 4)]
UNKNOWN_SHARE = 0.05
EXACT_REPEAT_SHARE = 0.10
CONFLICT_REPEAT_SHARE = 0.01
# Service settings for the run: a short fold and sweep interval, so catching up is quick.
FOLD_INTERVAL = 2.0
SWEEP_INTERVAL = 5.0
CHANGE_LOGGED = re.compile(r"balance change id=(\d+) ")
SCENARIOS = (
    "db-restart",
    "db-pause",
    "web-kill",
    "worker-kill",
    "broker-down",
    "beat-down",
    "lock-contention",
)


class DriverError(Exception):
    """The run could not be set up or a process would not start."""


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {message}", flush=True)


def free_port(start: int = 0) -> int:
    """A free port of 127.0.0.1: the first free one from `start`, or any when 0."""
    for port in [start + n for n in range(200)] if start else [0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise DriverError(f"no free port from {start}")


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def wait_until(condition, *, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise DriverError(f"timed out after {timeout:.0f}s waiting for {what}")


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(child) for child in path.read_text().split()]
    except OSError:
        return []


def serving_request(pid: int, port: int) -> bool:
    """Whether process `pid` holds an established TCP connection on local `port`."""
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    except OSError:
        return False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                local_port = int(fields[1].rpartition(":")[2], 16)
                if local_port == port and fields[3] == "01" and fields[9] in inodes:
                    return True
    return False


def signal_pid(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


# --- the processes ------------------------------------------------------------------------


class Postgres:
    """A PostgreSQL cluster of the driver's own, in `base`, on `port` of 127.0.0.1."""

    def __init__(self, base: Path, port: int):
        self.base = base
        self.data = base / "pgdata"
        self.sockets = base / "pgsock"
        self.log = base / "postgres.log"
        self.port = port

    def _as_owner(self, command: list[str]) -> list[str]:
        # initdb and postgres refuse to run as root.
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *command]
        return command

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")

    def init(self) -> None:
        for path in (self.data, self.sockets):
            path.mkdir()
            self._chown(path)
        self.log.touch()
        self._chown(self.log)
        subprocess.run(
            self._as_owner(
                [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                 "-E", "UTF8", "--no-sync", "--locale=C.UTF-8"]
            ),
            check=True, stdout=subprocess.DEVNULL, timeout=120,
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.sockets} "
            "-c max_connections=100 -c fsync=off -c full_page_writes=off"
        )
        subprocess.run(
            self._as_owner(
                [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                 "-t", "60", "-o", options, "start"]
            ),
            check=True, stdout=subprocess.DEVNULL, timeout=90,
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        if not (self.data / "postmaster.pid").exists():
            return
        subprocess.run(
            self._as_owner(
                [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60",
                 "stop"]
            ),
            check=False, stdout=subprocess.DEVNULL, timeout=90,
        )  # fmt: skip

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            return None

    def url(self, database: str, user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"


class Redis:
    """A redis-server of the driver's own, without persistence."""

    def __init__(self, base: Path, port: int):
        self.base = base
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise DriverError("redis-server not found")
        with (self.base / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self.base)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        wait_until(lambda: port_open(self.port), timeout=20, what="redis-server")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class Service:
    """One of `bin/service web|worker|beat`, started in a session of its own."""

    def __init__(self, name: str, args: list[str], env: dict, log: Path):
        self.name, self.args, self.env, self.log = name, args, env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "bin" / "service"), self.name, *self.args],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the process and its children (by pid), and reap it."""
        if not self.alive():
            return
        pids = [self.process.pid, *children_of(self.process.pid)]
        for pid in pids:
            signal_pid(pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 30) -> None:
        if not self.alive():
            self.process = None
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        # Children left behind by a master that was killed.
        self.process = None


class Stack:
    """The cluster and Redis for the whole invocation; per scenario, a database and the
    service's processes."""

    def __init__(self, args):
        self.args = args
        self.base = Path(tempfile.mkdtemp(prefix="bank-faults-"))
        self.base.chmod(0o755)
        self.postgres = Postgres(self.base, free_port(args.pg_port))
        self.redis = Redis(self.base, free_port(args.redis_port))
        self.web_port = free_port()
        self.services: dict[str, Service] = {}
        self.database = TEMPLATE
        self.run_dir = self.base

    # -- cluster, role and template ------------------------------------------------------

    def setup(self) -> None:
        say(f"work dir {self.base}; PostgreSQL on :{self.postgres.port}, Redis on "
            f":{self.redis.port}, gunicorn on :{self.web_port}")  # fmt: skip
        self.postgres.init()
        self.postgres.start()
        self.redis.start()
        self.sql(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER", f"CREATE DATABASE {TEMPLATE}")
        started = time.monotonic()
        env = {**self.env(TEMPLATE, owner=True), "DATABASE_APP_ROLE": APP_ROLE}
        self.manage(env, "migrate", "--noinput", "-v", "0")
        inns = ",".join(repr(inn) for inn in KNOWN_INNS)
        self.manage(
            env,
            "shell",
            "-c",
            "from organizations.services import organization_create\n"
            f"for n, inn in enumerate([{inns}], 1):\n"
            "    organization_create(inn=inn, name=f'Fault driver organization {n}')\n",
        )
        say(f"template database migrated in {time.monotonic() - started:.0f}s")

    def sql(self, *statements: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(
            self.postgres.url(database), autocommit=True, connect_timeout=10
        ) as conn:
            for statement in statements:
                conn.execute(statement)

    def manage(self, env: dict, *args: str) -> None:
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT, env=env, check=True, timeout=600, stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def env(self, database: str, *, owner: bool = False) -> dict:
        drop = ("DATABASE_URL", "DATABASE_OWNER_URL", "DATABASE_APP_ROLE", "CELERY_BROKER_URL")
        return {
            **{k: v for k, v in os.environ.items() if k not in drop},
            "DJANGO_SETTINGS_MODULE": "settings.settings",
            "DATABASE_URL": self.postgres.url(database, "postgres" if owner else APP_ROLE),
            "CELERY_BROKER_URL": self.redis.url,
            "DJANGO_SECRET_KEY": "fault-driver-secret-key-not-for-any-deployment",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_MEDIA_ROOT": str(self.base / "media"),
            "DJANGO_STATIC_ROOT": str(self.base / "static"),
            "SERVICE_VAR_DIR": str(self.run_dir / "var"),
            "WEBHOOK_SECRETS": SECRET,
            "WEBHOOK_ALLOW_UNSIGNED": "false",
            "BANK_IMITATION_ENABLED": "false",
            "BALANCE_FOLD_INTERVAL_SECONDS": str(FOLD_INTERVAL),
            "BALANCE_CHANGE_SWEEP_INTERVAL_SECONDS": str(SWEEP_INTERVAL),
            "LOG_FORMAT": "plain",
            "PYTHONUNBUFFERED": "1",
        }

    # -- per scenario --------------------------------------------------------------------

    def scenario_start(self, label: str, *, beat: bool = True) -> None:
        self.database = "faults_" + re.sub(r"\W", "_", label)
        self.run_dir = self.base / label
        self.run_dir.mkdir()
        self.sql(
            f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)",
            f"CREATE DATABASE {self.database} TEMPLATE {TEMPLATE}",
        )
        import redis

        redis.Redis.from_url(self.redis.url, socket_connect_timeout=2).flushdb()
        env = self.env(self.database)
        self.services = {
            "web": Service(
                "web",
                ["--timeout", "30", "--graceful-timeout", "5", "--log-level", "warning"],
                {
                    **env,
                    "BIND": f"127.0.0.1:{self.web_port}",
                    "WEB_CONCURRENCY": str(self.args.web_workers),
                },
                self.run_dir / "web.log",
            ),  # fmt: skip
            "worker": Service(
                "worker",
                [
                    "--concurrency",
                    "2",
                    "--pool",
                    "prefork",
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                ],
                env,
                self.run_dir / "worker.log",
            ),  # fmt: skip
            "beat": Service("beat", [], env, self.run_dir / "beat.log"),
        }
        self.services["web"].start()
        self.worker_start()
        if beat:
            self.services["beat"].start()
        wait_until(lambda: port_open(self.web_port), timeout=60, what="gunicorn")

    def worker_start(self) -> None:
        worker = self.services["worker"]
        ready_before = self.worker_log().count("ready.")
        worker.start()
        wait_until(
            lambda: self.worker_log().count("ready.") > ready_before or not worker.alive(),
            timeout=90,
            what="the Celery worker",
        )
        if not worker.alive():
            raise DriverError("the Celery worker exited:\n" + self.worker_log()[-2000:])

    def worker_log(self) -> str:
        try:
            return (self.run_dir / "worker.log").read_text(errors="replace")
        except OSError:
            return ""

    def web_workers(self) -> list[int]:
        web = self.services["web"]
        return children_of(web.pid) if web.alive() else []

    def scenario_stop(self) -> None:
        for name in ("beat", "web", "worker"):
            if name in self.services:
                self.services[name].stop()

    def teardown(self) -> None:
        for service in self.services.values():
            try:
                service.stop(timeout=15)
            except Exception:  # keep tearing down
                traceback.print_exc()
        self.redis.stop()
        self.postgres.stop("fast")
        if not self.args.keep:
            shutil.rmtree(self.base, ignore_errors=True)
        else:
            say(f"kept {self.base}")


# --- the clients --------------------------------------------------------------------------


@dataclass
class Operation:
    operation_id: str
    inn: str
    amount: Decimal
    document_number: str
    document_date: str
    acked: bool = False
    result: str = ""

    def body(self, amount: Decimal | None = None) -> bytes:
        return json.dumps(
            {
                "operation_id": self.operation_id,
                "amount": f"{amount if amount is not None else self.amount:.2f}",
                "payer_inn": self.inn,
                "document_number": self.document_number,
                "document_date": self.document_date,
            },
            separators=(",", ":"),
        ).encode()


@dataclass
class ClientRecord:
    operations: list[Operation] = field(default_factory=list)
    deliveries: int = 0  # delivered payloads: new operations and repeats
    attempts: int = 0
    retries: int = 0
    abandoned: int = 0
    statuses: collections.Counter = field(default_factory=collections.Counter)
    unexpected: list[str] = field(default_factory=list)
    repeats_acked: int = 0
    conflicts_acked: int = 0
    ack_times: list[float] = field(default_factory=list)  # monotonic time of each 200


class Client(threading.Thread):
    """One bank connection: delivers payments one at a time until `stop_at`, retrying."""

    def __init__(self, number: int, port: int, args, stop_at: float, seed: int):
        super().__init__(name=f"client-{number}", daemon=True)
        self.number, self.port, self.args, self.stop_at = number, port, args, stop_at
        self.rng = random.Random(seed)
        self.record = ClientRecord()
        self.lock = threading.Lock()

    def run(self) -> None:
        sequence = 0
        now = time.time()
        while time.monotonic() < self.stop_at:
            sequence += 1
            inn = (
                self.rng.choice(UNKNOWN_INNS)
                if self.rng.random() < UNKNOWN_SHARE
                else self.rng.choice(KNOWN_INNS)
            )
            operation = Operation(
                operation_id=str(uuid.uuid4()),
                inn=inn,
                amount=Decimal(self.rng.randint(100, 9_999_999)) / 100,
                document_number=f"F{self.number}-{sequence}",
                document_date=datetime.fromtimestamp(
                    now - self.rng.randint(0, 5 * 86400), UTC
                ).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            self.record.operations.append(operation)
            answer = self.deliver(operation.body())
            if answer is None:
                continue
            operation.acked, operation.result = True, answer.get("result", "")
            draw = self.rng.random()
            if draw < EXACT_REPEAT_SHARE:
                repeat = self.deliver(operation.body())
                if repeat is not None:
                    self.record.repeats_acked += 1
                    if repeat.get("result") != "duplicate":
                        self.record.unexpected.append(
                            f"exact repeat of {operation.operation_id} answered {repeat}"
                        )
            elif draw < EXACT_REPEAT_SHARE + CONFLICT_REPEAT_SHARE:
                conflict = self.deliver(operation.body(operation.amount + Decimal("1.00")))
                if conflict is not None:
                    self.record.conflicts_acked += 1
                    if conflict.get("result") != "conflict":
                        self.record.unexpected.append(
                            f"conflicting repeat of {operation.operation_id} answered {conflict}"
                        )
            if self.args.pause:
                time.sleep(self.args.pause)

    def deliver(self, body: bytes) -> dict | None:
        """Deliver until answered 200; return the answer, or None when abandoned."""
        record = self.record
        record.deliveries += 1
        started = time.monotonic()
        for attempt in range(self.args.max_attempts):
            if attempt:
                record.retries += 1
            record.attempts += 1
            status, retry_after, answer = self.attempt(body)
            record.statuses[status] += 1
            if status == 200:
                record.ack_times.append(time.monotonic())
                try:
                    return json.loads(answer)
                except ValueError:
                    record.unexpected.append(f"200 with a body that is not JSON: {answer[:200]}")
                    return {}
            if isinstance(status, int):
                if status == 503 and retry_after is None:
                    record.unexpected.append("503 without Retry-After")
                elif status != 503:
                    record.unexpected.append(f"{status}: {answer[:300]!r}")
            delay = min(self.args.backoff_max, 0.1 * 2**attempt) * self.rng.uniform(0.5, 1.0)
            if retry_after is not None:
                try:
                    delay = max(delay, min(float(retry_after), self.args.backoff_max * 2))
                except ValueError:
                    record.unexpected.append(f"Retry-After {retry_after!r} is not seconds")
            if time.monotonic() + delay - started > self.args.max_retry_seconds:
                break
            time.sleep(delay)
        record.abandoned += 1
        return None

    def attempt(self, body: bytes) -> tuple[int | str, str | None, str]:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature_compute(secret=SECRET, timestamp=timestamp, body=body),
        }
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=self.args.request_timeout
        )
        try:
            connection.request("POST", WEBHOOK_PATH, body, headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
            return response.status, response.getheader("Retry-After"), text
        except TimeoutError:
            return "timeout", None, ""
        except (OSError, http.client.HTTPException) as exc:
            return f"connection error ({type(exc).__name__})", None, ""
        finally:
            connection.close()


# --- the faults ---------------------------------------------------------------------------


class Fault:
    """Injects one fault; sets `cleared_at` (monotonic) once the service is whole again."""

    def __init__(self, stack: Stack, args):
        self.stack, self.args = stack, args
        self.cleared_at: float | None = None
        self.started_at: float | None = None
        self.notes: list[str] = []
        self.error: BaseException | None = None

    def __call__(self) -> None:
        try:
            self.started_at = time.monotonic()
            self.inject()
        except BaseException as exc:  # reported with the checks
            self.error = exc
            traceback.print_exc()
        finally:
            if self.cleared_at is None:
                self.cleared_at = time.monotonic()

    def inject(self) -> None:
        raise NotImplementedError

    def note(self, text: str) -> None:
        self.notes.append(text)
        say(f"fault: {text}")


class DbRestart(Fault):
    def inject(self):
        self.stack.postgres.stop("fast")
        self.note("PostgreSQL stopped (fast)")
        time.sleep(self.args.fault_seconds or 3)
        self.stack.postgres.start()
        self.note("PostgreSQL started again")


class DbPause(Fault):
    def inject(self):
        postmaster = self.stack.postgres.postmaster_pid()
        if postmaster is None:
            raise DriverError("no postmaster.pid")
        pids = [postmaster, *children_of(postmaster)]
        for pid in pids:
            signal_pid(pid, signal.SIGSTOP)
        self.note(f"PostgreSQL frozen: SIGSTOP to the postmaster and {len(pids) - 1} processes")
        try:
            time.sleep(self.args.fault_seconds or 10)
        finally:
            for pid in reversed(pids):
                signal_pid(pid, signal.SIGCONT)
        self.note("SIGCONT")


class WebKill(Fault):
    def inject(self):
        kills = self.args.kills
        for number in range(kills):
            # A sync worker holding an established connection on the service's port is in
            # the middle of a request.
            serving = wait_until(
                lambda: [
                    pid
                    for pid in self.stack.web_workers()
                    if serving_request(pid, self.stack.web_port)
                ],
                timeout=10,
                what="a gunicorn worker serving a request",
                interval=0.005,
            )
            pid = random.choice(serving)
            signal_pid(pid, signal.SIGKILL)
            self.note(f"SIGKILL gunicorn worker {pid} mid-request ({number + 1}/{kills})")
            if number + 1 < kills:
                time.sleep(2)


class WorkerKill(Fault):
    """Holds a lock the fold (then the dispatch) needs, so that the worker is caught
    mid-statement, kills it there, lets go of the lock and starts the worker again."""

    CASES = (
        ("fold", "accounting_accountbalance", "%DELETE FROM accounting_balancedelta%"),
        ("dispatch", "accounting_loggedbalance", "%UPDATE accounting_balancechange%"),
    )

    def inject(self):
        import psycopg

        url = self.stack.postgres.url(self.stack.database)
        for what, table, query in self.CASES:
            with (
                psycopg.connect(url, connect_timeout=10) as holder,
                psycopg.connect(url, autocommit=True, connect_timeout=10) as watcher,
            ):
                holder.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
                waiting = wait_until(
                    lambda query=query: watcher.execute(
                        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query LIKE %s",
                        [query],
                    ).fetchall(),
                    timeout=60,
                    what=f"a {what} waiting on {table}",
                    interval=0.05,
                )
                self.stack.services["worker"].kill()
                self.note(f"SIGKILL the Celery worker during a {what} (backend {waiting[0][0]})")
                holder.rollback()
            self.stack.worker_start()
            self.note("Celery worker started again")


class BrokerDown(Fault):
    def inject(self):
        self.stack.redis.stop()
        self.note("Redis stopped")
        time.sleep(self.args.fault_seconds or 20)
        self.stack.redis.start()
        self.note("Redis started again")


class BeatDown(Fault):
    """Beat is not started with the others; it starts once the load is over."""

    def inject(self):
        self.note("beat not running during the load")


class LockContention(Fault):
    def inject(self):
        import psycopg

        url = self.stack.postgres.url(self.stack.database)
        with psycopg.connect(url, connect_timeout=10) as holder:
            holder.execute("LOCK TABLE accounting_balancedelta IN EXCLUSIVE MODE")
            self.note("accounting_balancedelta locked (EXCLUSIVE) by another session")
            time.sleep(self.args.fault_seconds or 15)
            holder.rollback()
        self.note("lock released")


FAULTS = {
    "db-restart": DbRestart,
    "db-pause": DbPause,
    "web-kill": WebKill,
    "worker-kill": WorkerKill,
    "broker-down": BrokerDown,
    "beat-down": BeatDown,
    "lock-contention": LockContention,
}


# --- the checks ---------------------------------------------------------------------------


def django_connect(stack: Stack, database: str) -> None:
    """Point the driver's own Django connection (as the owner) at the scenario database."""
    import django
    from django.db import connections

    if not hasattr(django_connect, "done"):
        for name, value in stack.env(database, owner=True).items():
            os.environ[name] = value
        django.setup()
        django_connect.done = True
    connections.close_all()
    connections["default"].settings_dict["NAME"] = database


def pending_work() -> tuple[int, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounting_balancedelta")
        (deltas,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM accounting_balancechange WHERE dispatched_at IS NULL")
        (changes,) = cursor.fetchone()
    return deltas, changes


def catch_up(stack: Stack, timeout: float) -> float | None:
    """Seconds until no delta is left unfolded and no change undispatched (the worker and
    beat doing it), or None if that did not happen within `timeout`."""
    from django.db import connections

    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        try:
            if pending_work() == (0, 0):
                # The dispatch logs before it commits; give the log a moment to be flushed.
                time.sleep(0.5)
                return time.monotonic() - started
        except Exception:  # the database may still be coming back
            connections.close_all()
        time.sleep(0.5)
    return None


def books_checks(stack: Stack, records: list[ClientRecord], run_started: datetime) -> dict:
    """The checks of the module docstring; returns {check: [failures]}."""
    from django.db import connection

    from accounting.chart import UNIDENTIFIED_RECEIPTS
    from accounting.selectors import account_balance_get, account_get_by_code, trial_balance_get
    from organizations.models import Organization
    from reconciliation.selectors import books_discrepancies
    from reconciliation.services import reconciliation_report_create

    failures: dict[str, list[str]] = collections.defaultdict(list)
    operations = [op for record in records for op in record.operations]
    sent = {op.operation_id: op for op in operations}
    acked = [op for op in operations if op.acked]

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT operation_id::text, amount, payer_inn FROM webhooks_payment ORDER BY id"
        )
        payments = cursor.fetchall()
    by_operation = collections.defaultdict(list)
    for operation_id, amount, inn in payments:
        by_operation[operation_id].append((amount, inn))

    for op in acked:
        found = by_operation.get(op.operation_id, [])
        if len(found) != 1:
            failures["acked-booked-once"].append(f"{op.operation_id}: {len(found)} payments")
        elif found[0] != (op.amount, op.inn):
            failures["acked-booked-once"].append(
                f"{op.operation_id}: booked {found[0]}, sent {(op.amount, op.inn)}"
            )
    for operation_id in by_operation:
        if operation_id not in sent:
            failures["no-unsent-payment"].append(f"payment of {operation_id}, which no one sent")

    expected: dict[str, Decimal] = collections.defaultdict(Decimal)
    for op in acked:
        expected[op.inn] += op.amount
    for organization in Organization.objects.select_related("account"):
        balance = account_balance_get(account=organization.account)
        if balance != expected.get(organization.inn, Decimal(0)):
            failures["balances"].append(
                f"{organization.inn}: balance {balance}, acknowledged {expected[organization.inn]}"
            )
    suspense = account_balance_get(account=account_get_by_code(code=UNIDENTIFIED_RECEIPTS.code))
    unidentified = sum((expected[inn] for inn in UNKNOWN_INNS), Decimal(0))
    if suspense != unidentified:
        failures["balances"].append(
            f"unidentified receipts {suspense}, acknowledged from unknown INNs {unidentified}"
        )

    rows = trial_balance_get()
    debit = sum((row.debit for row in rows), Decimal(0))
    credit = sum((row.credit for row in rows), Decimal(0))
    if debit != credit:
        failures["trial-balance"].append(f"debits {debit} != credits {credit}")
    if debit != sum((op.amount for op in acked), Decimal(0)):
        failures["trial-balance"].append(f"debits {debit} != acknowledged total")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, dispatched_at IS NOT NULL FROM accounting_balancechange ORDER BY id"
        )
        changes = dict(cursor.fetchall())
    logged = collections.Counter(int(i) for i in CHANGE_LOGGED.findall(stack.worker_log()))
    undispatched = [i for i, done in changes.items() if not done]
    if undispatched:
        failures["change-log-once"].append(f"{len(undispatched)} changes not dispatched")
    missing = [i for i in changes if logged[i] == 0]
    twice = {i: n for i, n in logged.items() if n > 1}
    unknown = [i for i in logged if i not in changes]
    if missing:
        failures["change-log-once"].append(f"{len(missing)} changes never logged: {missing[:10]}")
    if twice:
        failures["change-log-once"].append(
            f"changes logged more than once: {dict(list(twice.items())[:10])}"
        )
    if unknown:
        failures["change-log-once"].append(f"logged ids that are no change: {unknown[:10]}")

    discrepancies = books_discrepancies()
    if any(discrepancies.values()):
        failures["reconciliation"].append(f"books_discrepancies(): {discrepancies}")
    report = reconciliation_report_create(
        period_start=run_started - timedelta(days=6),
        period_end=datetime.now(UTC) + timedelta(minutes=1),
        full=True,
    )
    if report.status != "ok":
        failures["reconciliation"].append(f"report {report.status}: {report.discrepancies}")

    for record in records:
        failures["answers"].extend(record.unexpected)
    abandoned = sum(record.abandoned for record in records)
    if abandoned:
        failures["answers"].append(f"{abandoned} deliveries abandoned after the retry bound")
    for name in ("acked-booked-once", "no-unsent-payment", "balances", "trial-balance",
                 "change-log-once", "reconciliation", "answers"):  # fmt: skip
        failures.setdefault(name, [])
    figures = {"payments": len(payments), "balance_changes": len(changes)}
    return {"failures": dict(failures), "figures": figures}


# --- a run --------------------------------------------------------------------------------


def run_scenario(stack: Stack, args, name: str, label: str) -> dict:
    from django.db import connections

    fault = FAULTS[name](stack, args)
    duration = max(args.duration, args.fault_at + minimum_fault_seconds(name, args) + 5)
    say(f"== {label}: {args.clients} clients, {duration}s of load, fault at {args.fault_at}s")
    stack.scenario_start(label, beat=name != "beat-down")
    run_started = datetime.now(UTC)
    started = time.monotonic()
    stop_at = started + duration
    clients = [
        Client(n, stack.web_port, args, stop_at, seed=args.seed * 1000 + n)
        for n in range(args.clients)
    ]
    for client in clients:
        client.start()
    injector = threading.Timer(args.fault_at, fault)
    injector.start()
    injector.join(timeout=duration + 300)
    bound = duration + args.max_retry_seconds + args.request_timeout + 60
    for client in clients:
        client.join(timeout=max(1, started + bound - time.monotonic()))
    load_seconds = time.monotonic() - started
    stuck = [client.name for client in clients if client.is_alive()]
    records = [client.record for client in clients]

    django_connect(stack, stack.database)
    beat_started_at = None
    pending_before_beat = None
    if name == "beat-down":
        pending_before_beat = pending_work()
        early = books_checks(stack, records, run_started)["failures"]["balances"]
        if early:
            fault.notes.append(f"balances before beat: {early}")
        stack.services["beat"].start()
        beat_started_at = time.monotonic()
        fault.cleared_at = beat_started_at
        say(f"beat started; pending deltas and changes before: {pending_before_beat}")
    caught_up = catch_up(stack, timeout=args.catch_up_timeout)
    caught_up_at = time.monotonic()
    checked = books_checks(stack, records, run_started)
    failures = checked["failures"]
    if name == "beat-down" and fault.notes and fault.notes[-1].startswith("balances before"):
        failures["balances"].append(fault.notes[-1])
    if caught_up is None:
        failures.setdefault("catch-up", []).append(
            f"deltas and changes still pending after {args.catch_up_timeout}s: {pending_work()}"
        )
    if fault.error is not None:
        failures.setdefault("fault", []).append(f"the fault failed: {fault.error!r}")
    if stuck:
        failures["answers"].append(f"clients still running: {stuck}")
    web_log = (stack.run_dir / "web.log").read_text(errors="replace")
    worker_timeouts = web_log.count("WORKER TIMEOUT")
    if name == "lock-contention":
        failures["no-hung-worker"] = (
            [f"{worker_timeouts} gunicorn worker time-outs"] if worker_timeouts else []
        )
    connections.close_all()
    stack.scenario_stop()

    statuses = collections.Counter()
    for record in records:
        statuses.update(record.statuses)
    acks = sorted(t for record in records for t in record.ack_times)
    cleared = fault.cleared_at or started
    after = [t for t in acks if t >= cleared]
    recover = (after[0] - cleared) if after else None
    # The longest time without any 200 during the load (how long the fault was felt).
    gaps = [b - a for a, b in zip([started, *acks], acks, strict=False)]
    operations = sum(len(record.operations) for record in records)
    acknowledged = sum(1 for record in records for op in record.operations if op.acked)
    fivexx = sum(n for status, n in statuses.items() if isinstance(status, int) and status >= 500)
    passed = [check for check, errors in failures.items() if not errors]
    figures = {
        "scenario": name,
        "label": label,
        "clients": args.clients,
        "duration_s": duration,
        "load_s": round(load_seconds, 1),
        "operations": operations,
        "deliveries": sum(record.deliveries for record in records),
        "attempts": sum(record.attempts for record in records),
        "acknowledged": acknowledged,
        "retried": sum(record.retries for record in records),
        "repeats_acked": sum(record.repeats_acked for record in records),
        "conflicts_acked": sum(record.conflicts_acked for record in records),
        "booked": checked["figures"]["payments"],
        "balance_changes": checked["figures"]["balance_changes"],
        "statuses": {str(status): n for status, n in sorted(statuses.items(), key=str)},
        "5xx": fivexx,
        "500": statuses.get(500, 0),
        "worker_timeouts": worker_timeouts,
        "fault": fault.notes,
        "recover_s": round(recover, 1) if recover is not None else None,
        "longest_gap_s": round(max(gaps), 1) if gaps else None,
        "caught_up_s": round(caught_up, 1) if caught_up is not None else None,
        "pending_before_beat": pending_before_beat,
        "acks_per_s": round(acknowledged / load_seconds, 1) if load_seconds else 0,
        "checks_passed": len(passed),
        "checks": len(failures),
        "failures": {check: errors for check, errors in failures.items() if errors},
        "ok": len(passed) == len(failures),
        "command": command_line(args, name),
    }
    del caught_up_at, beat_started_at
    print(summary_line(figures), flush=True)
    for check, errors in figures["failures"].items():
        for error in errors[:10]:
            print(f"  FAILED {check}: {error}", flush=True)
    return figures


def minimum_fault_seconds(name: str, args) -> float:
    """How long the fault lasts, so that the load outlasts it."""
    default = {"db-restart": 3, "db-pause": 10, "broker-down": 20, "lock-contention": 15,
               "web-kill": 2 * args.kills, "worker-kill": 20, "beat-down": 0}[name]  # fmt: skip
    return args.fault_seconds or default


def summary_line(f: dict) -> str:
    return (
        f"{f['label']}: {'OK' if f['ok'] else 'FAILED'}; {f['deliveries']} deliveries sent "
        f"({f['operations']} operations), {f['acknowledged']} acknowledged, {f['retried']} "
        f"retried, {f['booked']} booked; {f['5xx']} 5xx (503 with Retry-After), 500: "
        f"{f['500']}; intake back {f['recover_s']}s after the fault, longest gap without a "
        f"200 {f['longest_gap_s']}s, books caught up {f['caught_up_s']}s after the load; "
        f"checks {f['checks_passed']}/{f['checks']} passed"
    )


def _seconds(value) -> str:
    return "–" if value is None else f"{value:g} s"


def table_row(f: dict) -> str:
    """One row of docs/reliability.md's table."""
    statuses = f["statuses"]
    others = sum(n for status, n in statuses.items() if not status.isdigit())
    return (
        f"| {f['label']} | {f['clients']} × {f['duration_s']} s | {f['deliveries']} | "
        f"{f['acknowledged']} | {f['retried']} | {f['booked']} | "
        f"{f['5xx']} ({statuses.get('503', 0)} × 503, {f['500']} × 500); {others} conn. | "
        f"{_seconds(f['recover_s'])} / {_seconds(f['longest_gap_s'])} / "
        f"{_seconds(f['caught_up_s'])} | {f['acks_per_s']:g} | "
        f"{f['checks_passed']}/{f['checks']} {'OK' if f['ok'] else 'FAILED'} | "
        f"`{f['command']}` |"
    )


def command_line(args, name: str) -> str:
    parts = ["nice -n 19 .venv/bin/python bench/faults.py", f"--scenario {name}"]
    if args.quick:
        parts.append("--quick")
    else:
        parts += [f"--clients {args.clients}", f"--duration {args.duration}"]
    return " ".join(parts)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scenario", dest="scenarios", nargs="+", default=["db-restart"],
        choices=[*SCENARIOS, "all"], help="one or more scenarios, or all",
    )  # fmt: skip
    parser.add_argument("--clients", type=int, default=8, help="concurrent bank clients")
    parser.add_argument("--duration", type=int, default=30, help="seconds of load")
    parser.add_argument("--fault-at", type=float, default=8, help="seconds into the load")
    parser.add_argument(
        "--fault-seconds", type=float, default=0, help="how long the fault lasts (0: default)"
    )
    parser.add_argument("--kills", type=int, default=4, help="web-kill: workers killed")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each scenario")
    parser.add_argument("--quick", action="store_true", help="small load, under a minute")
    parser.add_argument("--web-workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--pause", type=float, default=0.02, help="client pause between sends")
    parser.add_argument("--request-timeout", type=float, default=10)
    parser.add_argument("--max-attempts", type=int, default=40)
    parser.add_argument("--max-retry-seconds", type=float, default=90)
    parser.add_argument("--backoff-max", type=float, default=2.0)
    parser.add_argument("--catch-up-timeout", type=float, default=120)
    parser.add_argument("--pg-port", type=int, default=54390, help="first port tried")
    parser.add_argument("--redis-port", type=int, default=6390, help="first port tried")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the work dir and its logs")
    parser.add_argument("--json", type=Path, help="write the figures of every run here")
    parser.add_argument("--table", action="store_true", help="print Markdown table rows")
    args = parser.parse_args(argv)
    if "all" in args.scenarios:
        args.scenarios = list(SCENARIOS)
    if args.quick:
        args.clients, args.duration, args.fault_at, args.kills = 3, 15, 4, 3
    if args.clients < 1 or args.duration < 1 or not 1 <= args.repeat <= 10:
        parser.error("need --clients >= 1, --duration >= 1 and 1 <= --repeat <= 10")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if not (PG_BIN / "initdb").exists():
        print(f"fault driver failed: no initdb in {PG_BIN} (set PG_BIN)", file=sys.stderr)
        return 2
    stack = Stack(args)
    results = []
    try:
        stack.setup()
        for name in args.scenarios:
            for run in range(1, args.repeat + 1):
                label = name if args.repeat == 1 else f"{name}-{run}"
                args.seed += 1
                results.append(run_scenario(stack, args, name, label))
    except (DriverError, subprocess.SubprocessError, OSError) as exc:
        traceback.print_exc()
        print(f"fault driver failed: {exc}", file=sys.stderr)
        return 2
    finally:
        stack.teardown()
        if args.json and results:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print("\n".join(["", "summary:", *(summary_line(f) for f in results)]), flush=True)
    if args.table:
        print("\n".join(["", *(table_row(f) for f in results)]), flush=True)
    return 0 if results and all(f["ok"] for f in results) else 1


if __name__ == "__main__":
    sys.exit(main())
