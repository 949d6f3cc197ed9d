"""How Swagger describes the API keys (drf-spectacular), so a person can authorize there."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "organizations.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key issued in the admin (Organizations → API keys), scoped "
            "to organizations: `Authorization: Bearer <key>`.",
        }
