"""What schemathesis does not generate, sent over a raw socket to the app under gunicorn as
production runs it (sync workers), with a short worker timeout: bodies split across slow
writes, Transfer-Encoding: chunked, a Content-Length shorter or longer than the body,
invalid UTF-8, a JSON nesting bomb and an oversized body. None may answer 5xx or hold a
worker past its timeout, and the worker answers the next request."""

import json
import socket
import time
import uuid
from dataclasses import dataclass

import pytest
from django.db import connection

from tests.servers import database_url_of, gunicorn_server
from webhooks.models import Delivery, Payment
from webhooks.signatures import signature_compute

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "raw-http-webhook-secret-0123456789"
WORKER_TIMEOUT = 6  # seconds; gunicorn kills a worker silent for longer
READ_TIMEOUT = 2  # seconds between two reads of a body before the intake answers 408
MAX_BODY = 64 * 1024


def _payload() -> bytes:
    return json.dumps(
        {
            "operation_id": str(uuid.uuid4()),
            "amount": "10.50",
            "payer_inn": "1234567890",
            "document_number": "RAW-1",
            "document_date": "2024-04-27T21:00:00Z",
        }
    ).encode()


def _head(*, length: int | None, signed_body: bytes | None, extra: tuple[str, ...] = ()) -> bytes:
    lines = [
        "POST /api/v1/webhook/bank/ HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        "Connection: close",
    ]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if signed_body is not None:
        timestamp = str(int(time.time()))
        signature = signature_compute(secret=SECRET, timestamp=timestamp, body=signed_body)
        lines += [f"X-Bank-Timestamp: {timestamp}", f"X-Bank-Signature: {signature}"]
    lines += extra
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class Answer:
    status: int | None  # None: the connection closed without an answer
    body: bytes
    seconds: float

    def json(self):
        return json.loads(self.body)


def _exchange(url: str, pieces: list[bytes], *, pause: float = 0.0, half_close=False) -> Answer:
    """Send `pieces` (pausing between them), optionally close our side, read the answer."""
    host, port = url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=WORKER_TIMEOUT * 3) as sock:
        try:
            for piece in pieces:
                sock.sendall(piece)
                if pause:
                    time.sleep(pause)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered (and closed) before reading all of it
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
    seconds = time.monotonic() - started
    if not data:
        return Answer(None, b"", seconds)
    head, _, body = data.partition(b"\r\n\r\n")
    return Answer(int(head.split(b" ", 2)[1]), body, seconds)


def _slow(body: bytes) -> list[bytes]:
    return [_head(length=len(body), signed_body=body)] + [
        body[i : i + 16] for i in range(0, len(body), 16)
    ]


def _chunked(body: bytes) -> list[bytes]:
    head = _head(length=None, signed_body=body, extra=("Transfer-Encoding: chunked",))
    half = len(body) // 2
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:half], body[half:]))
    return [head + chunks + b"0\r\n\r\n"]


def _length_short(body: bytes) -> list[bytes]:
    return [_head(length=len(body) - 7, signed_body=body) + body]


def _length_long(body: bytes) -> list[bytes]:
    return [_head(length=len(body) + 50, signed_body=body) + body]


def _length_garbage(body: bytes) -> list[bytes]:
    return [_head(length=None, signed_body=body, extra=("Content-Length: 12abc",)) + body]


def _raw(body: bytes) -> list[bytes]:
    return [_head(length=len(body), signed_body=body) + body]


INVALID_UTF8 = b'{"operation_id": "\xff\xfe", "amount": 1}'
NESTING_BOMB = b"[" * 100_000 + b"]" * 100_000
OVERSIZED = b'{"padding": "' + b"x" * (2 * MAX_BODY) + b'"}'


@dataclass(frozen=True)
class Case:
    name: str
    pieces: callable
    body: callable
    status: int | None
    booked: bool = False
    error: tuple[str, str] | None = None  # (field, words in its message)
    pause: float = 0.0
    half_close: bool = False
    recorded: bool = True  # kept as a rejected delivery


CASES = [
    Case("slow writes", _slow, _payload, 200, booked=True, pause=0.05),
    Case("chunked", _chunked, _payload, 200, booked=True),
    # Signed over the whole body, of which the server reads the declared part only.
    Case("content-length shorter", _length_short, _payload, 401, error=("detail", "signature")),
    # The server waits for bytes that never come; the client gives up and closes its side.
    Case(
        "content-length longer, client closes",
        _length_long,
        _payload,
        400,
        error=("body", "shorter than its content-length"),
        half_close=True,
    ),
    # Was a 500: the worker waited for the rest until gunicorn killed it at its timeout.
    Case(
        "content-length longer, client waits",
        _length_long,
        _payload,
        408,
        error=("body", "not received in time"),
    ),
    Case("invalid utf-8", _raw, lambda: INVALID_UTF8, 400, error=("body", "utf-8")),
    Case("nesting bomb", _raw, lambda: NESTING_BOMB, 413, error=("detail", "exceeds")),
    Case(
        "nesting bomb within the limit",
        _raw,
        lambda: b"[" * 30_000 + b"]" * 30_000,
        400,
        error=("body", "nested too deeply"),
    ),  # fmt: skip
    Case("oversized", _raw, lambda: OVERSIZED, 413, error=("detail", "exceeds")),
    # No Content-Length to refuse it by: the intake stops reading past the limit.
    Case("oversized, chunked", _chunked, lambda: OVERSIZED, 413, error=("detail", "exceeds")),
    # gunicorn refuses the request line itself; the app never sees it.
    Case("content-length not a number", _length_garbage, _payload, 400, recorded=False),
]


@pytest.fixture
def server(tmp_path):
    env = {
        "WEBHOOK_SECRETS": SECRET,
        "WEBHOOK_ALLOW_UNSIGNED": "false",
        "WEBHOOK_MAX_BODY_BYTES": str(MAX_BODY),
        "GUNICORN_CMD_ARGS": f"--timeout {WORKER_TIMEOUT}",
        "REQUEST_BODY_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT),
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_FILESYSTEM_BROKER_DIR": str(tmp_path / "celery"),
    }
    with gunicorn_server(
        database_url=database_url_of(connection.settings_dict), workers=1, env=env
    ) as url:
        yield url


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_raw_request_is_answered_without_5xx_and_the_worker_still_answers(server, case):
    from organizations.services import organization_create

    organization_create(inn="1234567890", name="Raw")
    body = case.body()

    answer = _exchange(server, case.pieces(body), pause=case.pause, half_close=case.half_close)

    assert answer.status == case.status, answer.body[:300]
    assert answer.seconds < WORKER_TIMEOUT
    if case.error:
        field, words = case.error
        message = answer.json()[field]
        message = message if isinstance(message, str) else " ".join(message)
        assert words.lower() in message.lower(), message
    assert Payment.objects.exists() is case.booked
    if case.status != 200 and case.recorded:
        assert Delivery.objects.filter(http_status=case.status).count() == 1
    # The same worker (there is one) answers the next request at once.
    after = _exchange(server, [b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"])
    assert after.status == 200


def test_a_stalled_statement_upload_is_answered_408_and_the_worker_still_answers(server):
    # Any endpoint that reads a body, not only the webhook: DRF's multipart parser here.
    from organizations.models import ApiKeyScope
    from organizations.services import api_key_issue

    _, key = api_key_issue(name="raw", organizations=[], scopes=[ApiKeyScope.STATEMENT_IMPORT])
    part = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="kl_to_1c.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n1CClientBankExchange\r\n"
    )
    head = (
        "POST /api/v1/bank-statements/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        f"Authorization: Bearer {key}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {len(part) + 500}\r\n\r\n"
    ).encode()

    answer = _exchange(server, [head + part])

    assert answer.status == 408, answer.body[:300]
    assert answer.seconds < WORKER_TIMEOUT
    assert "not received in time" in answer.json()["detail"]
    after = _exchange(server, [b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"])
    assert after.status == 200
