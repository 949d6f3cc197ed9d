"""docker-compose.yml as Docker Compose itself loads it (`docker compose config`), with
.env_example as .env: its validation, interpolation and the merge of env_file with environment;
who gets which credentials, and the app containers' refusal of .env_example's placeholders.
"""

import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from tests.deploy.compose_files import (
    APP_IMAGE_SERVICES,
    APP_SERVICES,
    BACKEND,
    BRIEF_SERVICES,
    ENV_EXAMPLE,
    ONE_SHOTS,
    PREPARE,
    ROOT,
    load_script,
    render_compose,
)

PLACEHOLDER = load_script(ROOT / "bin" / "service", "bin_service").PLACEHOLDER


def test_compose_loads_the_file_with_env_example_as_env(rendered):
    assert set(rendered["services"]) == BRIEF_SERVICES | ONE_SHOTS
    assert rendered["name"] == "bank-webhook-ledger"


def test_container_environment_overrides_the_env_file(rendered, env_example):
    services = rendered["services"]
    database = services["postgresql-service"]["environment"]
    minio = services["minio-s3-srv"]["environment"]
    expected = {
        "DATABASE_URL": (
            f"postgres://{database['POSTGRES_APP_USER']}:{database['POSTGRES_APP_PASSWORD']}"
            f"@postgresql-service:5432/{database['POSTGRES_DB']}"
        ),
        "CACHE_URL": "redis://redis-cache:6380/0",
        "CELERY_BROKER_URL": "redis://redis-celery:6379/0",
        "AWS_S3_ENDPOINT_URL": "http://minio-s3-srv:9000",
        "AWS_ACCESS_KEY_ID": minio["MINIO_ROOT_USER"],
        "AWS_SECRET_ACCESS_KEY": minio["MINIO_ROOT_PASSWORD"],
        "AWS_STORAGE_BUCKET_NAME": "s3bucket",
        "BIND": "0.0.0.0:8000",
        "DJANGO_STATIC_ROOT": "/app/var/static",
    }
    # The upper part of .env_example (for runs without Docker) sets some of these differently.
    assert env_example["DATABASE_URL"] != expected["DATABASE_URL"]
    assert env_example["BIND"] != expected["BIND"]
    for name in APP_IMAGE_SERVICES:
        environment = services[name]["environment"]
        assert {key: environment.get(key) for key in expected} == expected, name
        assert {"localhost", "127.0.0.1", BACKEND} <= set(
            environment["DJANGO_ALLOWED_HOSTS"].split(",")
        )
        # What only .env provides still reaches the app.
        assert environment["DJANGO_SECRET_KEY"] == env_example["DJANGO_SECRET_KEY"]
        assert environment["DJANGO_SUPERUSER_USERNAME"] == "admin"
    assert database == {
        name: env_example[name]
        for name in ("POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_APP_USER",
                     "POSTGRES_APP_PASSWORD")
    }  # fmt: skip


def test_only_the_prepare_job_holds_the_owners_credentials(rendered, env_example):
    services = rendered["services"]
    owner_password = env_example["POSTGRES_PASSWORD"]
    assert services[PREPARE]["environment"]["DATABASE_OWNER_URL"] == (
        f"postgres://{env_example['POSTGRES_USER']}:{owner_password}"
        f"@postgresql-service:5432/{env_example['POSTGRES_DB']}"
    )
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        # .env (env_file) holds them; the service's environment blanks them.
        assert environment["DATABASE_OWNER_URL"] == environment["POSTGRES_PASSWORD"] == "", name
        assert environment["DJANGO_SUPERUSER_PASSWORD"] == "", name
        leaks = [key for key, value in environment.items() if owner_password in (value or "")]
        assert not leaks, f"{name}: {leaks}"
        user = urlsplit(environment["DATABASE_URL"]).username
        assert user == env_example["POSTGRES_APP_USER"] != env_example["POSTGRES_USER"], name


@pytest.mark.parametrize("service", sorted(APP_IMAGE_SERVICES))
def test_app_containers_refuse_env_example_placeholders_naming_them(rendered, service, tmp_path):
    """The container's environment as `docker compose config` renders it from an unedited
    .env_example, given to the container's entrypoint (bin/service) with its command."""
    environment = {k: v for k, v in rendered["services"][service]["environment"].items() if v}
    command = {PREPARE: "prepare", BACKEND: "web", "celery-worker": "worker",
               "celery-beat": "beat", "flower": "flower"}[service]  # fmt: skip
    placeholders = {name for name, value in environment.items() if PLACEHOLDER in value}
    assert {"DJANGO_SECRET_KEY", "WEBHOOK_SECRETS", "DATABASE_URL"} <= placeholders
    done = subprocess.run(
        [sys.executable, str(ROOT / "bin" / "service"), command],
        env={**environment, "PATH": "/usr/bin:/bin", "SERVICE_VAR_DIR": str(tmp_path)},
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    named = re.search(r"\.env_example: ([A-Z0-9_, ]+)\. Replace each", done.stderr)
    assert named, done.stderr
    assert placeholders <= set(named.group(1).split(", "))


def test_compose_publishes_the_brief_ports(rendered):
    published = {
        (name, str(port["published"]), int(port["target"]))
        for name, service in rendered["services"].items()
        for port in service.get("ports", [])
    }
    assert {
        ("redis-cache", "6380", 6380),
        ("redis-celery", "6379", 6379),
        ("minio-s3-srv", "9000", 9000),
        ("minio-s3-srv", "9001", 9001),
        (BACKEND, "8000", 8000),
        ("flower", "5555", 5555),
    } == published


@pytest.mark.parametrize("password", ["POSTGRES_PASSWORD", "POSTGRES_APP_PASSWORD"])
def test_compose_refuses_to_start_without_a_database_password(tmp_path, password):
    env_text = "\n".join(
        line for line in ENV_EXAMPLE.read_text().splitlines() if not line.startswith(f"{password}=")
    )
    result = render_compose(tmp_path, env_text)
    assert result.returncode != 0
    assert f"{password} in .env" in result.stderr
