from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "hjp.audit"
    label = "audit"
    verbose_name = "Audit log"
