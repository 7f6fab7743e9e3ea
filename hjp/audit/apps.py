from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "hjp.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self):
        from celery.signals import task_postrun, task_prerun

        from hjp.audit.context import task_finished, task_started

        task_prerun.connect(task_started, dispatch_uid="hjp.audit.task_started")
        task_postrun.connect(task_finished, dispatch_uid="hjp.audit.task_finished")
