from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes and reports"

    def ready(self):
        from outcomes.services import outcomes_erase
        from referrals.services.erasure import register_eraser

        # Called after casework's eraser: the apps load in the order of the layers.
        register_eraser(outcomes_erase)
