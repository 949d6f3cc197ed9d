"""Settings for the benchmark server: the service's own, plus the framework-floor view.

The benchmark signs its webhooks (bench/payloads.py; WEBHOOK_SECRETS is set by bench/run.py)
and reads balances with an API key; the switches below only take effect when it is run with
--unsigned, or for the scenarios that read without a key.
"""

import os

for _name, _value in {
    "DJANGO_SECRET_KEY": "benchmark-secret-key-not-for-any-deployment",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "WEBHOOK_ALLOW_UNSIGNED": "true",
    "API_AUTH_REQUIRED": "false",
}.items():
    os.environ.setdefault(_name, _value)

from settings.settings import *  # noqa: E402, F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
