import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.settings")

from common.handlers import PathMiddlewareRouter  # noqa: E402  (settings must be configured)
from common.startup import refuse_to_start_on_check_errors  # noqa: E402  (apps must be ready)

application = PathMiddlewareRouter(get_wsgi_application())

refuse_to_start_on_check_errors()
