"""Fuzzing the API's contract with schemathesis, against the live app under gunicorn.

The cases are generated from the service's own OpenAPI schema (/api/v1/schema/), for every
operation, once with valid credentials and once without: the webhook signed with the real
HMAC (computed over the exact bytes sent, by a requests auth hook) and unsigned; the balance
and statement reads with an API key of the organizations and without one; the bank
imitation and the statement import with a staff session (and its CSRF token) and without.
Both schemathesis generation modes run: data that fits the schema and data that does not.
Then the schema's links (the webhook's payer_inn to the balance and the statement, the
imitation's id to its detail) are walked by schemathesis' state machine.

Every response is checked by schemathesis: no 5xx, a status code the schema declares, its
content type, its headers and its body against the schema. The run counts every case and
every failure, and does not stop at the first one, so a run's figures can be published.
"""

import secrets
import time
from collections import Counter
from dataclasses import dataclass, field

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from webhooks.signatures import signature_compute, standard_headers_compute

SCHEMA_PATH = "/api/v1/schema/"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Only for data that does not fit the schema: it must be refused with a 4xx.
NEGATIVE_CHECKS = [negative_data_rejection]
REQUEST_TIMEOUT = 30


class BankSignature(requests.auth.AuthBase):
    """Signs each request as the bank does, over the exact body requests will send: the
    X-Bank scheme and Standard Webhooks in turn, so both verifiers are fuzzed."""

    def __init__(self, secret: str):
        self.secret = secret
        self.sent = 0

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        now = int(time.time())
        self.sent += 1
        if self.sent % 2:
            request.headers["X-Bank-Timestamp"] = str(now)
            request.headers["X-Bank-Signature"] = signature_compute(
                secret=self.secret, timestamp=str(now), body=body
            )
            return request
        for name in ("X-Bank-Timestamp", "X-Bank-Signature"):
            request.headers.pop(name, None)
        try:
            headers = standard_headers_compute(
                secret=self.secret, msg_id=f"msg_{secrets.token_hex(8)}", timestamp=now, body=body
            )
        except UnicodeDecodeError:  # Standard Webhooks signs text only; fall back to X-Bank
            self.sent += 1
            return self(request)
        request.headers.update(headers)
        return request


class Bearer(requests.auth.AuthBase):
    def __init__(self, key: str):
        self.key = key

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self.key}"
        return request


@dataclass(frozen=True)
class Credentials:
    """What a valid client holds: the webhook secret, an API key for the organizations
    `inns` (balances and statement import), and a staff session with its CSRF token."""

    webhook_secret: str
    api_key: str
    session_id: str
    csrf_token: str
    inns: tuple[str, ...]


@dataclass
class Figures:
    cases: int = 0
    stateful_steps: int = 0
    unsendable: int = 0
    stateful_runs_cut: int = 0
    statuses: Counter = field(default_factory=Counter)
    per_variant: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        return (
            f"{self.cases} cases ({self.stateful_steps} in stateful scenarios), "
            f"{len(self.server_errors)} 5xx, {len(self.violations)} schema violations, "
            f"{len(self.transport_errors)} transport errors; statuses {statuses}; "
            f"{self.unsendable} generated cases too deeply nested for the client to send; "
            f"{self.stateful_runs_cut} stateful runs cut short by hypothesis"
        )


def _session(variant: str, credentials: Credentials, operation_id: str) -> requests.Session:
    session = requests.Session()
    if variant != "valid":
        return session
    if operation_id == "bank_webhook_receive":
        session.auth = BankSignature(credentials.webhook_secret)
    elif operation_id.startswith("organization_"):
        session.auth = Bearer(credentials.api_key)
    else:  # the imitation and the statement import: the admin's staff session
        session.cookies.set("sessionid", credentials.session_id)
        session.cookies.set("csrftoken", credentials.csrf_token)
        session.headers["X-CSRFToken"] = credentials.csrf_token
    return session


def credentials_apply(case, credentials: Credentials) -> None:
    """Replace the credentials schemathesis generated for the operation's security scheme
    (a random `sessionid` cookie) by the valid ones; the session's auth hook signs or adds
    the API key after this."""
    operation_id = case.operation.definition.raw["operationId"]
    if operation_id.startswith("bank_") and operation_id != "bank_webhook_receive":
        case.cookies = {"sessionid": credentials.session_id, "csrftoken": credentials.csrf_token}


def _describe(case, response) -> str:
    return (
        f"{case.operation.method.upper()} {case.operation.path} -> {response.status_code}: "
        f"{response.text[:300]!r}\n  {case.as_curl_command()}"
    )


def _record(figures: Figures, case, response, checks, transport_kwargs) -> None:
    figures.statuses[response.status_code] += 1
    if response.status_code >= 500:
        figures.server_errors.append(_describe(case, response))
    try:
        case.validate_response(response, checks=checks, transport_kwargs=transport_kwargs)
    except FailureGroup as group:
        for failure in group.exceptions:
            if response.status_code >= 500 and "server error" in str(failure.title).lower():
                continue  # counted above
            figures.violations.append(f"{failure.title}: {_describe(case, response)}")


def _run_operation(
    operation, *, base_url: str, session, mode: GenerationMode, examples: int, seed: int,
    credentials: Credentials, figures: Figures, variant: str,
) -> None:  # fmt: skip
    strategy = operation.as_strategy(generation_mode=mode)
    has_inn = "{inn}" in operation.path
    checks = CHECKS + (NEGATIVE_CHECKS if mode == GenerationMode.NEGATIVE else [])
    transport_kwargs = {"base_url": base_url, "session": session, "timeout": REQUEST_TIMEOUT}

    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @hypothesis.given(case=strategy, inn=st.sampled_from([None, *credentials.inns]))
    def one(case, inn):
        if has_inn and inn is not None and mode == GenerationMode.POSITIVE:
            case.path_parameters = {**(case.path_parameters or {}), "inn": inn}
        if variant == "valid":
            credentials_apply(case, credentials)
        try:
            response = case.call(base_url=base_url, session=session, timeout=REQUEST_TIMEOUT)
        except requests.RequestException as exc:
            figures.transport_errors.append(f"{operation.label}: {exc!r}")
            return
        except RecursionError:
            # A generated value nested too deeply for the client to serialize: nothing sent.
            figures.unsendable += 1
            return
        figures.cases += 1
        figures.per_variant[f"{operation.label} [{variant}, {mode.value}]"] += 1
        _record(figures, case, response, checks, transport_kwargs)

    one()


def _run_stateful(
    schema, *, base_url: str, credentials: Credentials, steps: int, seed: int, figures: Figures
) -> None:
    """Walk the schema's links with valid credentials: each operation's session as above."""
    sessions = {
        operation_id: _session("valid", credentials, operation_id)
        for operation_id in (
            "bank_webhook_receive",
            "organization_balance_retrieve",
            "organization_statement_retrieve",
            "bank_imitation_create",
            "bank_imitation_retrieve",
            "bank_statement_import",
        )
    }
    base = schema.as_state_machine()

    class Machine(base):
        def call(self, case, **kwargs):
            credentials_apply(case, credentials)
            session = sessions[case.operation.definition.raw["operationId"]]
            try:
                response = case.call(base_url=base_url, session=session, timeout=REQUEST_TIMEOUT)
            except RecursionError:
                figures.unsendable += 1  # as above: nothing sent; hypothesis drops the step
                hypothesis.reject()
            figures.cases += 1
            figures.stateful_steps += 1
            figures.per_variant[f"{case.operation.label} [stateful]"] += 1
            return response

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            session = sessions[case.operation.definition.raw["operationId"]]
            _record(
                figures, case, response, CHECKS,
                {"base_url": base_url, "session": session, "timeout": REQUEST_TIMEOUT},
            )  # fmt: skip

    # Runs of ten scenarios. Which rules apply depends on the server's answers, so hypothesis
    # may find that two scenarios of a run drew differently (FlakyStrategyDefinition) and
    # stop that run: its steps are checked and counted all the same, and the next run goes on.
    settings = hypothesis.settings(
        max_examples=10,
        stateful_step_count=5,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    for run in range(max(1, steps // 50)):
        runner = hypothesis.seed(seed + run)(Machine.TestCase)
        runner.settings = settings
        try:
            runner("runTest").runTest()
        except hypothesis.errors.FlakyStrategyDefinition:
            figures.stateful_runs_cut += 1


def contract_fuzz(
    base_url: str, *, credentials: Credentials, examples: int, stateful_steps: int, seed: int
) -> Figures:
    """Run `examples` generated cases per operation, credential variant and generation
    mode, then about `stateful_steps` steps along the schema's links; return the figures."""
    schema = schemathesis.openapi.from_url(f"{base_url}{SCHEMA_PATH}", timeout=REQUEST_TIMEOUT)
    figures = Figures()
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        operation_id = operation.definition.raw["operationId"]
        for variant in ("valid", "none"):
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _run_operation(
                    operation,
                    base_url=base_url,
                    session=_session(variant, credentials, operation_id),
                    mode=mode,
                    examples=examples,
                    seed=seed,
                    credentials=credentials,
                    figures=figures,
                    variant=variant,
                )
    if stateful_steps:
        _run_stateful(
            schema,
            base_url=base_url,
            credentials=credentials,
            steps=stateful_steps,
            seed=seed,
            figures=figures,
        )
    return figures
