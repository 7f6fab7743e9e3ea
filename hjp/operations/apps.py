from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "hjp.operations"
    label = "operations"

    def ready(self):
        from celery import signals

        from hjp.operations import metrics, requests

        # A request's id travels with the tasks it enqueues, and each worker counts the tasks that fail.
        signals.before_task_publish.connect(requests.add_request_id_to_task, weak=False)
        signals.task_prerun.connect(requests.task_started, weak=False)
        signals.task_postrun.connect(requests.task_finished, weak=False)
        signals.task_failure.connect(metrics.count_task_failure, weak=False)
