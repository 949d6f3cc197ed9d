"""Settings of the test run: the service's own, with the development switches the tests use.

The switches are set in the environment before the service's settings are read, so the
servers and workers the tests start in child processes run with the same ones. Tests of the
secure defaults switch them back for themselves.
"""

import os

for _name, _value in {
    "DJANGO_SECRET_KEY": "test-secret-key-not-for-any-deployment",
    # The test client and the browser test speak plain HTTP to 127.0.0.1.
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    # Most tests post unsigned webhooks and read balances without a key; the signature and
    # API-key tests turn these off again.
    "WEBHOOK_ALLOW_UNSIGNED": "true",
    "API_AUTH_REQUIRED": "false",
    "BANK_IMITATION_ENABLED": "true",
    # The test process connects as the owner (it creates, migrates and empties the test
    # database); the servers and workers it starts connect as this role, which the
    # migrations grant the application's privileges (tests/conftest.py creates it).
    "DATABASE_APP_ROLE": "bank_webhook_app",
}.items():
    os.environ.setdefault(_name, _value)

from settings.settings import *  # noqa: E402, F403
