import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.settings")

application = get_asgi_application()

from common.startup import refuse_to_start_on_check_errors  # noqa: E402  (apps must be ready)

refuse_to_start_on_check_errors()
