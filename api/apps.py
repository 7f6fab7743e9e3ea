from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "System interface (API clients)"

    def ready(self):
        from api.v1 import schema  # noqa: F401  (registers the OpenAPI account of client credentials)
