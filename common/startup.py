"""What a serving process checks before it serves."""


def refuse_to_start_on_check_errors() -> None:
    """WSGI and ASGI servers run no system checks of their own: a misconfigured service (no
    webhook secret with DEBUG off, say) must not start serving. Raises ImproperlyConfigured
    with every serious check message."""
    from django.core import checks
    from django.core.exceptions import ImproperlyConfigured

    errors = [e for e in checks.run_checks(include_deployment_checks=False) if e.is_serious()]
    if errors:
        raise ImproperlyConfigured("; ".join(f"{e.id}: {e.msg} {e.hint or ''}" for e in errors))
