"""GET /metrics: the Prometheus text format, for whatever monitoring the operators run.

Three kinds of figures end up on the page:

- request and database metrics, counted by django-prometheus (its middleware and database
  backend) in every web process;
- the domain's counters and histograms, counted where things happen (webhook results and
  booking latency in `webhooks`, Celery task outcomes here);
- the domain's gauges, read from the database at scrape time by the collectors the apps
  register with `scrape_collector_register` (balance backlog, last reconciliation).

Under gunicorn each worker process counts on its own, so the counters live in
prometheus_client's multiprocess files: `bin/service` gives every process group its own
folder `<METRICS_MULTIPROC_ROOT>/<role>-<host>` (as PROMETHEUS_MULTIPROC_DIR), emptied when the
group starts, and the page adds up the files of all the groups under the root (web and
Celery worker alike, when they share it). Without PROMETHEUS_MULTIPROC_DIR (a single process:
the test client, runserver) the process's own registry is shown.

Access: a bearer token (METRICS_TOKEN) or a client address in METRICS_ALLOWED_NETWORKS.
With neither configured the page does not exist (404), so nothing is exposed by default.
"""

import glob
import hmac
import logging
import os
import time
from collections.abc import Iterable

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY as PROCESS_REGISTRY
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from common.network import address_in, client_address

logger = logging.getLogger(__name__)

_scrape_collectors: dict[type, Collector] = {}


def scrape_collector_register(collector: Collector) -> None:
    """Add a collector whose figures are read when /metrics is scraped (one per class)."""
    _scrape_collectors[type(collector)] = collector


celery_task_outcomes = Counter(
    "bank_webhook_celery_task_outcomes_total",
    "Celery tasks that finished, by task name and outcome (success, failure, retry).",
    ["task", "outcome"],
)


def celery_task_outcome_count(*, task: str, outcome: str) -> None:
    celery_task_outcomes.labels(task=task, outcome=outcome).inc()


class _FolderTreeCollector(MultiProcessCollector):
    """prometheus_client's multiprocess collector over every process group's folder."""

    def __init__(self, root: str):
        self._root = root

    def collect(self):
        files = glob.glob(os.path.join(self._root, "*.db"))
        files += glob.glob(os.path.join(self._root, "*", "*.db"))
        return self.merge(files, accumulate=True)


class _ScrapeCollectors(Collector):
    """The apps' scrape-time collectors; one that fails is logged and left out, so a
    database hiccup still leaves the process metrics on the page."""

    def collect(self) -> Iterable:
        for collector in list(_scrape_collectors.values()):
            try:
                yield from list(collector.collect())
            except Exception:
                logger.exception("Metrics collector %s failed", type(collector).__name__)


def _registry() -> CollectorRegistry:
    multiproc_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not multiproc_dir:
        registry = CollectorRegistry()
        registry.register(_Delegate(PROCESS_REGISTRY))
    else:
        root = os.environ.get("METRICS_MULTIPROC_ROOT") or multiproc_dir
        registry = CollectorRegistry()
        registry.register(_FolderTreeCollector(root))
    registry.register(_ScrapeCollectors())
    return registry


class _Delegate(Collector):
    def __init__(self, registry: CollectorRegistry):
        self._registry = registry

    def collect(self):
        return self._registry.collect()


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        # Bytes: compare_digest refuses str with non-ASCII characters, which a caller can send.
        given_bytes = given.strip().encode("utf-8", "surrogateescape")
        if scheme.lower() == "bearer" and hmac.compare_digest(given_bytes, token.encode()):
            return True
    if settings.METRICS_ALLOWED_NETWORKS:
        address = client_address(request, settings.TRUSTED_PROXIES)
        if address_in(address, settings.METRICS_ALLOWED_NETWORKS):
            return True
    return False


@require_GET
def metrics(request):
    """The metrics page; 404 unless configured, 403 for a caller neither token nor network
    lets in (an Authorization challenge would only tell scanners the page exists)."""
    if not settings.METRICS_TOKEN and not settings.METRICS_ALLOWED_NETWORKS:
        raise Http404
    if not _allowed(request):
        return HttpResponse("Forbidden.\n", status=403, content_type="text/plain")
    started = time.monotonic()
    body = generate_latest(_registry())
    logger.debug("Metrics collected in %.3f s", time.monotonic() - started)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
