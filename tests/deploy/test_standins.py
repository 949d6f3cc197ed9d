"""The compose smoke test's stand-in images, without an engine: every image the stack pulls
has one, image names follow the compose file and the Dockerfile, and a stand-in's cache tag
follows its build files."""

import hashlib

import pytest

from tests.deploy.compose_files import (
    COMPOSE_FILE,
    DOCKERFILE,
    ENV_EXAMPLE,
    dockerfile_base_images,
    load_compose,
    read_env_file,
    referenced_images,
    stage_base_image,
)
from tests.deploy.standins import STANDINS, _digest_tree, split_image, standin_for


def test_every_image_the_stack_pulls_has_a_stand_in():
    images = referenced_images()
    compose = load_compose(read_env_file(ENV_EXAMPLE))
    infrastructure = {s["image"] for s in compose["services"].values() if "build" not in s}
    app_image = compose["services"]["backend-django-main-app-service"]["image"]
    assert set(images) == (infrastructure - {app_image}) | set(dockerfile_base_images(DOCKERFILE))
    kinds = {standin_for(image).kind for image in images}
    assert kinds == {"python", "postgres", "redis", "minio", "mc"}
    for image in images:
        assert (STANDINS / standin_for(image).context / "Dockerfile").is_file(), image


def test_the_python_image_comes_from_the_dockerfiles_arg():
    from tests.deploy.compose_files import dockerfile_stages

    global_args, stages = dockerfile_stages()
    assert dockerfile_base_images(DOCKERFILE) == [stage_base_image(stages[0], global_args)]
    assert "python:" in global_args["PYTHON_IMAGE"]


def test_base_images_follow_args_build_args_and_skip_earlier_stages(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "ARG BASE=python:3.13.1-slim-trixie\n"
        "FROM ${BASE} AS builder\n"
        "RUN true\n"
        "FROM --platform=linux/amd64 builder AS test\n"
        "FROM postgres:18.1\n"
    )
    assert dockerfile_base_images(dockerfile) == ["python:3.13.1-slim-trixie", "postgres:18.1"]
    assert dockerfile_base_images(dockerfile, {"BASE": "python:3.12.0-slim"})[0] == (
        "python:3.12.0-slim"
    )


def test_a_change_of_pinned_tags_needs_no_change_to_the_test(tmp_path):
    redis = load_compose(read_env_file(ENV_EXAMPLE))["services"]["redis-cache"]["image"]
    python = dockerfile_base_images(DOCKERFILE)[0]
    compose = COMPOSE_FILE.read_text().replace(redis, "redis:9.9.9-alpine")
    (tmp_path / "docker-compose.yml").write_text(compose)
    dockerfile = DOCKERFILE.read_text().replace(python, "python:3.13.1-slim-trixie")
    (tmp_path / "Dockerfile").write_text(dockerfile)
    images = referenced_images(tmp_path / "docker-compose.yml")
    assert "redis:9.9.9-alpine" in images and redis not in images
    assert "python:3.13.1-slim-trixie" in images and python not in images
    stand_in = standin_for("python:3.13.1-slim-trixie")
    assert (stand_in.kind, stand_in.base) == ("python", "debian:trixie")
    assert standin_for("postgres:18.1-bookworm").build_args == {"PG_MAJOR": "18"}


def test_an_image_without_a_stand_in_is_named():
    with pytest.raises(ValueError, match="nginx:1.27"):
        standin_for("nginx:1.27")


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("python:3.12.11-slim-bookworm", ("python", "3.12.11-slim-bookworm")),
        ("docker.io/library/redis:7.4.6", ("redis", "7.4.6")),
        (
            "quay.io/minio/mc:RELEASE.2025-04-16T18-13-26Z",
            ("quay.io/minio/mc", "RELEASE.2025-04-16T18-13-26Z"),
        ),
        ("localhost:5000/postgres", ("localhost:5000/postgres", "latest")),
    ],
)
def test_image_references_split_into_repository_and_tag(image, expected):
    assert split_image(image) == expected


def test_a_stand_ins_cache_key_follows_its_build_files(tmp_path):
    def key():
        digest = hashlib.sha256()
        _digest_tree(digest, tmp_path)
        return digest.hexdigest()

    script = tmp_path / "entrypoint.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o644)
    first = key()
    assert key() == first
    script.chmod(0o755)
    executable = key()
    assert executable != first
    script.write_text('#!/bin/sh\nexec "$@"\n')
    assert key() not in (first, executable)
