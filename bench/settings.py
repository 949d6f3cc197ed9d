"""Settings for the benchmark server: the service's own, plus the framework-floor view.

wrk cannot sign requests: the webhook takes unsigned deliveries here, and balances are read
without an API key. Both are the development switches of the service's settings.
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
WEBHOOK_SECRETS = []
