import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.settings")

application = get_wsgi_application()

from common.startup import refuse_to_start_on_check_errors  # noqa: E402  (apps must be ready)

refuse_to_start_on_check_errors()
