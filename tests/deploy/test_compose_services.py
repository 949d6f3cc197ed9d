"""The brief's services in docker-compose.yml: images, ports, health checks, dependencies,
volumes, the database's two roles, and the one-shot jobs (the bucket, the migrations).
"""

import re

import pytest

from tests.deploy.compose_files import (
    APP_SERVICES,
    BACKEND,
    BRIEF_SERVICES,
    BUCKET_INIT,
    ONE_SHOTS,
    PREPARE,
    ROOT,
    as_command_text,
    load_compose,
    port_mappings,
    variable_references,
)


def test_brief_services_and_the_one_shot_jobs_are_defined(compose):
    assert set(compose["services"]) == BRIEF_SERVICES | ONE_SHOTS


@pytest.mark.parametrize(
    ("service", "image_prefix"),
    [
        ("postgresql-service", "postgres:17."),
        ("redis-cache", "redis:7.4."),
        ("redis-celery", "redis:7.4."),
        ("minio-s3-srv", "quay.io/minio/minio:RELEASE."),
        (BUCKET_INIT, "quay.io/minio/mc:RELEASE."),
    ],
)
def test_infrastructure_images_are_pinned_releases_of_the_right_family(
    compose, service, image_prefix
):
    image = compose["services"][service]["image"]
    assert image.startswith(image_prefix)
    tag = image.rsplit(":", 1)[1]
    assert re.fullmatch(
        r"\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?|RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ", tag
    ), f"{image}: pin a release, not a moving tag"


@pytest.mark.parametrize(
    ("service", "published", "target"),
    [
        ("redis-cache", "6380", "6380"),
        ("redis-celery", "6379", "6379"),
        ("minio-s3-srv", "9000", "9000"),
        ("minio-s3-srv", "9001", "9001"),
        (BACKEND, "8000", "8000"),
        ("flower", "5555", "5555"),
    ],
)
def test_brief_ports_are_published(compose, service, published, target):
    mappings = [(p, t) for _, p, t in port_mappings(compose["services"][service])]
    assert (published, target) in mappings


def test_redis_services_listen_on_their_brief_ports(compose):
    for service, port in (("redis-cache", "6380"), ("redis-celery", "6379")):
        definition = compose["services"][service]
        command = as_command_text(definition["command"])
        assert f"--port {port}" in command
        assert f"-p {port}" in as_command_text(definition["healthcheck"]["test"])


def test_unauthenticated_ports_are_published_on_loopback_only(compose):
    for service in ("redis-cache", "redis-celery", "flower"):
        host_ips = {host_ip for host_ip, _, _ in port_mappings(compose["services"][service])}
        assert host_ips == {"127.0.0.1"}, service


def test_minio_serves_its_console_on_9001(compose):
    command = as_command_text(compose["services"]["minio-s3-srv"]["command"])
    assert command.startswith("server /data")
    assert "--console-address :9001" in command


def test_long_running_services_have_health_checks(compose):
    for name, service in compose["services"].items():
        if name in ONE_SHOTS:
            continue
        healthcheck = service.get("healthcheck", {})
        assert healthcheck.get("test") and not healthcheck.get("disable"), name
        assert healthcheck["test"][0] in ("CMD", "CMD-SHELL"), name


def test_one_shot_jobs_run_once_per_start_without_health_checks(compose):
    for name in ONE_SHOTS:
        job = compose["services"][name]
        assert job.get("restart", "no") == "no", name
        # No check of its own, and none inherited from the image (the web server's).
        assert job.get("healthcheck", {"disable": True}) == {"disable": True}, name


def test_dependencies_wait_for_health_or_completion(compose):
    services = compose["services"]
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: use the long depends_on syntax"
        for dependency, options in depends_on.items():
            condition = options["condition"]
            if dependency in ONE_SHOTS:
                assert condition == "service_completed_successfully", name
            else:
                assert condition == "service_healthy", f"{name} -> {dependency}"
                assert "healthcheck" in services[dependency]


def test_backend_starts_after_every_backing_service_and_the_migrations(compose):
    depends_on = compose["services"][BACKEND]["depends_on"]
    assert set(depends_on) == {
        "postgresql-service", "redis-cache", "redis-celery", BUCKET_INIT, PREPARE
    }  # fmt: skip
    assert compose["services"][BUCKET_INIT]["depends_on"]["minio-s3-srv"] == {
        "condition": "service_healthy"
    }


def test_the_migrations_run_once_the_database_answers(compose):
    assert compose["services"][PREPARE]["depends_on"] == {
        "postgresql-service": {"condition": "service_healthy"}
    }


def test_every_app_service_starts_after_the_migrations_succeeded(compose):
    for name in APP_SERVICES:
        depends_on = compose["services"][name]["depends_on"]
        assert depends_on[PREPARE] == {"condition": "service_completed_successfully"}, name
        assert depends_on["redis-celery"]["condition"] == "service_healthy", name
    worker = compose["services"]["celery-worker"]["depends_on"]
    # The worker writes reports to the bucket and counts throttles in the cache.
    assert {"redis-cache", BUCKET_INIT} <= set(worker)


def test_postgres_creates_the_applications_role_on_its_first_start(compose):
    database = compose["services"]["postgresql-service"]
    assert "./docker/postgres-init:/docker-entrypoint-initdb.d:ro" in database["volumes"]
    script = ROOT / "docker" / "postgres-init" / "10-app-role.sh"
    assert script.stat().st_mode & 0o111, "the entrypoint executes it (else sources it)"
    text = script.read_text()
    assert re.search(r"CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE", text)
    for name in ("POSTGRES_APP_USER", "POSTGRES_APP_PASSWORD", "POSTGRES_USER"):
        assert f"${{{name}:?" in text, name
    environment = database["environment"]
    assert environment["POSTGRES_APP_USER"] != environment["POSTGRES_USER"]
    assert environment["POSTGRES_APP_PASSWORD"] != environment["POSTGRES_PASSWORD"]


def test_named_volumes_are_declared_and_used(compose):
    declared = set(compose["volumes"])
    used = {}
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source, _, target = str(volume).partition(":")
            if not source.startswith((".", "/")):
                assert source in declared, f"{name}: volume {source} is not declared"
                used.setdefault(source, set()).add((name, target.split(":")[0]))
    assert ("postgresql-service", "/var/lib/postgresql/data") in used["postgres-data"]
    assert ("minio-s3-srv", "/data") in used["minio-data"]
    # The static files prepare collects are the ones the backend serves.
    assert {(BACKEND, "/app/var"), (PREPARE, "/app/var"), ("celery-beat", "/app/var")} <= used[
        "app-var"
    ]
    assert set(used) == declared, "declared volumes that no service uses"


def test_bucket_is_created_idempotently_and_kept_private(compose):
    job = compose["services"][BUCKET_INIT]
    script = as_command_text(job["entrypoint"]) + as_command_text(job.get("command"))
    assert "mc mb --ignore-existing" in script
    assert "mc anonymous set none" in script
    assert not re.search(r"anonymous set (public|download|upload)", script)
    assert "${AWS_STORAGE_BUCKET_NAME}" in script
    assert job["environment"]["AWS_STORAGE_BUCKET_NAME"] == "s3bucket"


def test_published_host_ports_are_variables_with_the_brief_defaults(env_example):
    defaults = {"6380": "6380", "6379": "6379", "9000": "9000", "9001": "9001", "8000": "8000",
                "5555": "5555"}  # fmt: skip
    raw = load_compose()
    variables = {}
    for name, service in raw["services"].items():
        for port in service.get("ports", []):
            published, target = str(port).rsplit(":", 1)
            references = variable_references(published)
            assert len(references) == 1, f"{name}: {port}: publish ${{NAME:-default}}"
            (variable, operator), default = references[0], published.rsplit(":-", 1)[-1][:-1]
            assert operator == ":-" and defaults[target] == default, f"{name}: {port}"
            variables[variable] = default
    assert len(variables) == len(defaults)
    # .env_example sets each to the brief's port, so `cp .env_example .env` changes nothing.
    assert {name: env_example[name] for name in variables} == variables
    moved = load_compose({**env_example, **{name: "1" + port for name, port in variables.items()}})
    assert {p for s in moved["services"].values() for _, p, _ in port_mappings(s)} == {
        "1" + port for port in defaults
    }
