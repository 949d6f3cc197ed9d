"""Secure by default: the production values of .env_example pass Django's deployment
checks, and the service refuses to start on placeholders or without its secrets."""

import subprocess
import sys

from tests.servers import ROOT


def _env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env_example").read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            values[name.strip()] = value.strip()
    return values


def _run(args, env, timeout=120):
    return subprocess.run(
        args,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "settings.settings", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_env_example_production_values_pass_the_deployment_checks():
    done = _run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        _env_example(),
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_secure_defaults_with_debug_off():
    done = _run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings as s; import django; django.setup(); print("
            "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, "
            "s.CSRF_COOKIE_SECURE, s.API_AUTH_REQUIRED, s.WEBHOOK_ALLOW_UNSIGNED, "
            "s.BANK_IMITATION_ENABLED)",
        ],
        {"DJANGO_SECRET_KEY": "k" * 60},
    )

    assert done.stdout.split() == ["True", "31536000", "True", "True", "True", "False", "False"]


def test_the_settings_refuse_to_load_without_a_secret_key():
    done = _run([sys.executable, "-c", "import settings.settings"], {})

    assert done.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in done.stderr


def test_gunicorn_does_not_serve_without_a_webhook_secret():
    done = _run(
        [sys.executable, "-c", "import settings.wsgi"],
        {"DJANGO_SECRET_KEY": "k" * 60, "WEBHOOK_SECRETS": ""},
    )

    assert done.returncode != 0
    assert "webhooks.E001" in done.stderr and "WEBHOOK_SECRETS" in done.stderr


def test_the_entrypoint_refuses_env_example_placeholders_naming_them():
    done = _run([sys.executable, "bin/service", "web"], _env_example())

    assert done.returncode == 2
    for name in (
        "DJANGO_SECRET_KEY",
        "WEBHOOK_SECRETS",
        "POSTGRES_PASSWORD",
        "DJANGO_SUPERUSER_PASSWORD",
    ):
        assert name in done.stderr
