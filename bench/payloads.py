"""Signed webhook requests for wrk to replay (bench/replay.lua): each a new payment."""

import json
import random
import time
import uuid
from pathlib import Path

from webhooks.signatures import signature_compute

BENCH_SECRET = "benchmark-webhook-secret-0123456789abcdef"  # noqa: S105  (the bench's own)


def signed_requests_write(
    path: Path, *, count: int, known: list[str], unknown: list[str], unknown_share: float
) -> Path:
    """Write `count` signed payments, timestamped now, one request a line."""
    rng = random.Random()
    timestamp = str(int(time.time()))
    now = time.time()
    with path.open("w") as out:
        for _ in range(count):
            inn = (
                rng.choice(unknown)
                if unknown and rng.random() < unknown_share
                else rng.choice(known)
            )
            body = json.dumps(
                {
                    "operation_id": str(uuid.uuid4()),
                    "amount": f"{rng.randint(1, 99999)}.{rng.randint(0, 99):02d}",
                    "payer_inn": inn,
                    "document_number": f"PAY-{rng.randint(1, 999999)}",
                    "document_date": time.strftime(
                        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - rng.randint(0, 30 * 86400))
                    ),
                },
                separators=(",", ":"),
            )
            signature = signature_compute(
                secret=BENCH_SECRET, timestamp=timestamp, body=body.encode()
            )
            out.write(f"{timestamp}\t{signature}\t{body}\n")
    return path
