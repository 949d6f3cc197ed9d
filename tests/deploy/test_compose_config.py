"""docker-compose.yml as Docker Compose itself loads it (`docker compose config`), with
.env_example as .env: its validation, interpolation and the merge of env_file with environment.
"""

from tests.deploy.compose_files import (
    APP_SERVICES,
    BACKEND,
    BRIEF_SERVICES,
    BUCKET_INIT,
    ENV_EXAMPLE,
    render_compose,
)


def test_compose_loads_the_file_with_env_example_as_env(rendered):
    assert set(rendered["services"]) == BRIEF_SERVICES | {BUCKET_INIT}
    assert rendered["name"] == "bank-webhook-ledger"


def test_container_environment_overrides_the_env_file(rendered, env_example):
    services = rendered["services"]
    database = services["postgresql-service"]["environment"]
    minio = services["minio-s3-srv"]["environment"]
    expected = {
        "DATABASE_URL": (
            f"postgres://{database['POSTGRES_USER']}:{database['POSTGRES_PASSWORD']}"
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
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert {key: environment.get(key) for key in expected} == expected, name
        assert {"localhost", "127.0.0.1", BACKEND} <= set(
            environment["DJANGO_ALLOWED_HOSTS"].split(",")
        )
        # What only .env provides still reaches the app.
        assert environment["DJANGO_SECRET_KEY"] == env_example["DJANGO_SECRET_KEY"]
        assert environment["DJANGO_SUPERUSER_USERNAME"] == "admin"
    assert database == {
        "POSTGRES_DB": env_example["POSTGRES_DB"],
        "POSTGRES_USER": env_example["POSTGRES_USER"],
        "POSTGRES_PASSWORD": env_example["POSTGRES_PASSWORD"],
    }


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


def test_compose_refuses_to_start_without_the_database_password(tmp_path):
    env_text = "\n".join(
        line
        for line in ENV_EXAMPLE.read_text().splitlines()
        if not line.startswith("POSTGRES_PASSWORD=")
    )
    result = render_compose(tmp_path, env_text)
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr
