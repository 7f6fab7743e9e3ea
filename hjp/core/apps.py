from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "hjp.core"
    label = "core"
    verbose_name = "hjp core"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from hjp.core.sessions import stamp_sign_in

        user_logged_in.connect(stamp_sign_in, dispatch_uid="hjp.core.sessions.stamp_sign_in")
