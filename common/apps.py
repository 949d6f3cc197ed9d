from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Helpers every app uses: the API's JSON plumbing, request ids, probes, admin helpers,
    day bounds, table exports and the SQL-file loader. No models."""

    name = "common"
    verbose_name = "Common"
