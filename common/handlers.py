"""Each request through only the middleware its endpoint needs.

The machine-to-machine endpoints (the bank's webhook, the balance and statement reads) use
no session, user, messages, CSRF or static files: their requests skip that middleware,
which costs more CPU than the balance read itself. Everything else, the admin included,
goes through the whole of settings.MIDDLEWARE.
"""

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler


class _MiddlewareHandler(WSGIHandler):
    """A WSGI handler built, by Django's own loader, from another middleware list."""

    def __init__(self, middleware: list[str]):
        self._middleware = list(middleware)
        super().__init__()

    def load_middleware(self, is_async=False):
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = self._middleware  # read by the loader, at start-up only
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


class PathMiddlewareRouter:
    """A WSGI application: requests whose path starts with one of API_MIDDLEWARE_PATHS are
    handled with API_MIDDLEWARE, every other one by `application`."""

    def __init__(self, application):
        self.application = application
        self.prefixes = tuple(settings.API_MIDDLEWARE_PATHS)
        self.api = _MiddlewareHandler(settings.API_MIDDLEWARE)

    def __call__(self, environ, start_response):
        handler = self.api if environ.get("PATH_INFO", "").startswith(self.prefixes) else None
        # Under gunicorn, a body that stalls makes the read raise (Django: UnreadablePostError,
        # answered 408) before the worker's own timeout kills it mid-request with a 500.
        sock = environ.get("gunicorn.socket")
        if sock is not None:
            sock.settimeout(settings.REQUEST_BODY_READ_TIMEOUT_SECONDS)
        try:
            return (handler or self.application)(environ, start_response)
        finally:
            if sock is not None:
                sock.settimeout(None)
