"""Languages: the admin speaks the user's language, the API always English.

The API's error messages and field names are a contract with machines (the bank, the
clients reading balances), so they do not change with LANGUAGE_CODE or Accept-Language.
"""

from django.utils import translation

API_PATH_PREFIX = "/api/"


class ApiInEnglishMiddleware:
    """Activate English for every request under /api/; leave other requests to
    LocaleMiddleware. Listed after LocaleMiddleware, and in the lean API_MIDDLEWARE, which
    has no LocaleMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PATH_PREFIX):
            return self.get_response(request)
        translation.activate("en")
        request.LANGUAGE_CODE = "en"
        try:
            response = self.get_response(request)
        finally:
            translation.deactivate()
        # LocaleMiddleware, outside this one, keeps a Content-Language already set.
        response.headers["Content-Language"] = "en"
        return response
