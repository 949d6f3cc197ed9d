"""Settings for the benchmark server: the service's own, plus the framework-floor view."""

from settings.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# The load generator cannot sign requests; signature checks are off for the benchmark.
WEBHOOK_SECRET = ""
