""".env_example: its Docker section, values that work unedited, each variable once."""

import re

from tests.deploy.compose_files import DOCKER_SECTION_HEADER, ENV_EXAMPLE


def test_env_example_ends_with_the_docker_section():
    lines = ENV_EXAMPLE.read_text().splitlines()
    assert lines.count(DOCKER_SECTION_HEADER) == 1
    section = lines[lines.index(DOCKER_SECTION_HEADER) + 1 :]
    variables = [line.split("=", 1)[0] for line in section if re.match(r"^[A-Z_]+=", line)]
    assert variables == [
        "POSTGRES_DB",
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "POSTGRES_APP_USER",
        "POSTGRES_APP_PASSWORD",
        "MINIO_ROOT_USER",
        "MINIO_ROOT_PASSWORD",
        "DJANGO_SUPERUSER_USERNAME",
        "DJANGO_SUPERUSER_PASSWORD",
        "DJANGO_SUPERUSER_EMAIL",
        "FLOWER_BASIC_AUTH",
        "APP_HOST_PORT",
        "MINIO_API_HOST_PORT",
        "MINIO_CONSOLE_HOST_PORT",
        "REDIS_CACHE_HOST_PORT",
        "REDIS_CELERY_HOST_PORT",
    ]
    for index, line in enumerate(section):
        if re.match(r"^#?\s*[A-Z_]+=", line) and not line.startswith("#"):
            assert section[index - 1].startswith("#"), f"no comment above {line}"


# The secrets a copy of .env_example must have replaced before the stack starts.
SECRETS = ("DJANGO_SECRET_KEY", "WEBHOOK_SECRETS", "POSTGRES_PASSWORD", "POSTGRES_APP_PASSWORD",
           "MINIO_ROOT_PASSWORD", "DJANGO_SUPERUSER_PASSWORD")  # fmt: skip


def test_env_example_holds_a_placeholder_for_every_secret_and_nothing_else(env_example):
    placeholders = {name for name, value in env_example.items() if "CHANGE-ME" in value}
    # DATABASE_URL's upper-part password is POSTGRES_APP_PASSWORD's for runs without Docker.
    assert placeholders == {*SECRETS, "DATABASE_URL"}
    assert env_example["POSTGRES_APP_PASSWORD"] in env_example["DATABASE_URL"]
    assert len({env_example[name] for name in SECRETS}) == len(SECRETS)


def test_env_example_docker_values_fit_the_stack(env_example):
    assert env_example["POSTGRES_DB"] == "bank_webhook"
    assert env_example["POSTGRES_USER"] == "bank"
    # Two roles: the owner migrates, the service connects as the other.
    assert env_example["POSTGRES_APP_USER"] not in ("", env_example["POSTGRES_USER"])
    assert len(env_example["MINIO_ROOT_USER"]) >= 3
    assert len(env_example["MINIO_ROOT_PASSWORD"]) >= 8
    assert env_example["DJANGO_SUPERUSER_USERNAME"] == "admin"
    assert env_example["FLOWER_PORT"] == "5555"
    assert env_example["FLOWER_BASIC_AUTH"] == ""
    # Interpolated into DATABASE_URL without escaping.
    for name in (
        "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_APP_USER", "POSTGRES_APP_PASSWORD",
        "POSTGRES_DB",
    ):  # fmt: skip
        assert re.fullmatch(r"[A-Za-z0-9._-]+", env_example[name]), name
    # Left empty, runs without Docker keep local files, and compose uses its s3bucket default.
    assert env_example["AWS_STORAGE_BUCKET_NAME"] == ""


def test_env_example_sets_each_variable_once():
    # Compose keeps the last value of a repeated key, django-environ's read_env the first.
    names = re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=", ENV_EXAMPLE.read_text(), re.MULTILINE)
    assert sorted({n for n in names if names.count(n) > 1}) == []
