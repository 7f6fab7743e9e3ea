from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "hjp.notifications"
    label = "notifications"
    verbose_name = "Messages and deliveries"
