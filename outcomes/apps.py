from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes and reports"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from hjp.notifications.models import MessageKind
        from hjp.notifications.services import register_composer
        from outcomes.receivers import (
            COUNTED_FIELDS,
            figures_on_delete,
            figures_on_save,
            report_outcomes_on_consent_given_later,
        )
        from outcomes.services import compose_digest, compose_outcome_report, outcomes_erase
        from referrals.services.erasure import register_eraser
        from referrals.signals import consent_scope_changed

        # Called after casework's eraser: the apps load in the order of the layers.
        register_eraser(outcomes_erase)
        consent_scope_changed.connect(report_outcomes_on_consent_given_later, dispatch_uid="outcomes.report_later")
        # Digests and outcome reports read the figures and the consent of the moment they are delivered.
        register_composer(MessageKind.OUTCOME_REPORT, compose_outcome_report)
        register_composer(MessageKind.DIGEST, compose_digest)
        # The running totals of the figures: every save or delete that can move one marks its referral.
        for model in COUNTED_FIELDS:
            post_save.connect(figures_on_save, sender=model, dispatch_uid=f"outcomes.figures.save.{model.__name__}")
            post_delete.connect(
                figures_on_delete, sender=model, dispatch_uid=f"outcomes.figures.delete.{model.__name__}"
            )
