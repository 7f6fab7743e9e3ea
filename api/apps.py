from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "System interface (API clients)"

    def ready(self):
        from api.fhir.partners import enqueue_partner_send
        from api.fhir.subscriptions import compose_notification, notify_subscribers
        from api.v1 import schema  # noqa: F401  (registers the OpenAPI account of client credentials)
        from casework.signals import partner_send_queued
        from hjp.notifications.models import MessageKind
        from hjp.notifications.services import register_webhook
        from referrals.signals import task_changed

        # A change of a Task queues a notification for each subscription that may see it, in the change's
        # transaction; the outbox composes it at each attempt and POSTs it signed.
        task_changed.connect(notify_subscribers, dispatch_uid="api.notify_subscribers")
        register_webhook(MessageKind.WEBHOOK, compose_notification)
        # A handover to a provider outside hjp with a FHIR server is sent to it after the commit.
        partner_send_queued.connect(enqueue_partner_send, dispatch_uid="api.enqueue_partner_send")
