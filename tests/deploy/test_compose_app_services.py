"""The application's containers in docker-compose.yml: one image, the entrypoint commands
`dev.py run` uses, the environment derived from .env, the health endpoints.
"""

import re

from tests.deploy.compose_files import (
    APP_IMAGE_SERVICES,
    APP_SERVICES,
    BACKEND,
    PREPARE,
    ROOT,
    as_command_text,
    excluded_from_context,
    load_compose,
    load_script,
    port_mappings,
)


def test_app_services_share_one_image_built_from_this_repository(compose):
    services = compose["services"]
    images = {services[name]["image"] for name in APP_IMAGE_SERVICES}
    assert len(images) == 1
    builders = [name for name in APP_IMAGE_SERVICES if "build" in services[name]]
    assert builders == [BACKEND]
    assert services[BACKEND]["build"]["context"] == "."
    assert services[BACKEND]["build"]["dockerfile"] == "Dockerfile"


def test_app_services_run_the_entrypoint_commands_that_dev_py_uses(compose):
    service_script = load_script(ROOT / "bin" / "service", "bin_service")
    services = compose["services"]
    assert {"prepare", "web", "worker", "beat", "flower"} <= set(service_script.COMMANDS)
    # The image's entrypoint is bin/service (test_dockerfile.py); each service names its command.
    for name, command in (
        (PREPARE, "prepare"), (BACKEND, "web"), ("celery-worker", "worker"), ("celery-beat", "beat")
    ):  # fmt: skip
        assert services[name]["command"] == [command], name
        assert "entrypoint" not in services[name], name
    assert as_command_text(services["flower"]["entrypoint"]).endswith(
        "exec python /app/bin/service flower"
    )
    # `python3 dev.py run` starts the same processes: `bin/service all` (web, worker and beat).
    assert re.search(r'"bin"\s*/\s*"service"\)\s*,\s*"all"', (ROOT / "dev.py").read_text())
    assert service_script.run_all.__doc__.startswith("Run web, worker and beat")


def test_app_services_read_env_file_and_derive_urls_from_it():
    raw = load_compose()
    for name in APP_IMAGE_SERVICES:
        service = raw["services"][name]
        assert service["env_file"] == ".env", name
        environment = service["environment"]
        # Every process of the service connects as the application's role.
        assert environment["DATABASE_URL"].startswith("postgres://${POSTGRES_APP_USER:-bank_app}:")
        assert "@postgresql-service:5432/${POSTGRES_DB" in environment["DATABASE_URL"]
        assert environment["CACHE_URL"] == "redis://redis-cache:6380/0"
        assert environment["CELERY_BROKER_URL"] == "redis://redis-celery:6379/0"
        assert environment["AWS_S3_ENDPOINT_URL"] == "http://minio-s3-srv:9000"
        assert environment["AWS_ACCESS_KEY_ID"].startswith("${MINIO_ROOT_USER")
        assert environment["AWS_SECRET_ACCESS_KEY"].startswith("${MINIO_ROOT_PASSWORD")
        assert environment["AWS_STORAGE_BUCKET_NAME"] == "${AWS_STORAGE_BUCKET_NAME:-s3bucket}"
        assert environment["BIND"] == "0.0.0.0:8000"
        hosts = environment["DJANGO_ALLOWED_HOSTS"].split(",")
        assert {"localhost", "127.0.0.1", BACKEND} <= set(hosts)


def test_flower_listens_on_5555_in_its_container_whatever_the_host_port(env_example):
    compose = load_compose({**env_example, "FLOWER_PORT": "5600"})
    flower = compose["services"]["flower"]
    assert flower["environment"]["FLOWER_PORT"] == "5555"
    assert [(p, t) for _, p, t in port_mappings(flower)] == [("5600", "5555")]
    assert "5555/healthcheck" in as_command_text(flower["healthcheck"]["test"])


def test_backend_and_healthcheck_helper_use_the_health_endpoints(compose):
    backend_test = as_command_text(compose["services"][BACKEND]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/healthz" in backend_test
    for name in APP_SERVICES:
        test = compose["services"][name]["healthcheck"]["test"]
        if "/app/docker/healthcheck.py" in test:
            assert (ROOT / "docker" / "healthcheck.py").is_file()
            assert not excluded_from_context("docker/healthcheck.py")


def test_services_sharing_the_backends_image_never_pull_it(compose):
    # Without this, the first `up` asks a registry for bank-webhook-ledger:local and logs an
    # error before the backend's build has made it.
    services = compose["services"]
    image = services[BACKEND]["image"]
    for name in APP_IMAGE_SERVICES - {BACKEND}:
        assert services[name]["image"] == image
        assert services[name].get("pull_policy") == "never", name
    assert services[BACKEND].get("pull_policy", "missing") in ("missing", "build")


def test_app_containers_log_json_in_the_accountants_time_zone(compose, env_example):
    for name in APP_IMAGE_SERVICES:
        environment = compose["services"][name]["environment"]
        assert environment["LOG_FORMAT"] == "json"
        assert environment["TZ"] == env_example["DJANGO_TIME_ZONE"], name
    unset = {k: v for k, v in env_example.items() if k != "DJANGO_TIME_ZONE"}
    assert load_compose(unset)["services"][BACKEND]["environment"]["TZ"] == "Europe/Moscow"
