from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes and reports"

    def ready(self):
        from django.db.models.signals import post_delete, post_init, post_save, pre_delete, pre_save

        from hjp.accounts.models import Team
        from hjp.notifications.models import MessageKind
        from hjp.notifications.selectors import register_follow_up
        from hjp.notifications.services import register_composer
        from outcomes.receivers import (
            COUNTED_FIELDS,
            OWNER_KEYS,
            figures_after_owner_save,
            figures_on_delete,
            figures_on_owner_change,
            figures_on_save,
            figures_on_team_delete,
            figures_remember_owner,
            report_outcomes_on_consent_given_later,
        )
        from outcomes.services import compose_digest, compose_outcome_report, outcomes_erase, prepare_digest
        from outcomes.staff_survey.selectors import survey_follow_up
        from referrals.services.erasure import register_eraser
        from referrals.signals import consent_scope_changed

        # Called after casework's eraser: the apps load in the order of the layers.
        register_eraser(outcomes_erase)
        consent_scope_changed.connect(report_outcomes_on_consent_given_later, dispatch_uid="outcomes.report_later")
        # Digests and outcome reports read the figures and the consent of the moment they are delivered.
        register_composer(MessageKind.OUTCOME_REPORT, compose_outcome_report)
        register_composer(MessageKind.DIGEST, compose_digest, prepare=prepare_digest)
        # Under an outcome report in the inbox: rate the service (outcomes.staff_survey).
        register_follow_up(MessageKind.OUTCOME_REPORT, survey_follow_up)
        # The running totals of the figures: every save or delete that can move one marks its referral.
        for model in COUNTED_FIELDS:
            post_save.connect(figures_on_save, sender=model, dispatch_uid=f"outcomes.figures.save.{model.__name__}")
            post_delete.connect(
                figures_on_delete, sender=model, dispatch_uid=f"outcomes.figures.delete.{model.__name__}"
            )
        for model in OWNER_KEYS:
            name = model.__name__
            post_init.connect(figures_remember_owner, sender=model, dispatch_uid=f"outcomes.figures.init.{name}")
            pre_save.connect(figures_on_owner_change, sender=model, dispatch_uid=f"outcomes.figures.owner.{name}")
            post_save.connect(figures_after_owner_save, sender=model, dispatch_uid=f"outcomes.figures.saved.{name}")
        # Deleting a team sets its referrals' team to none without a save.
        pre_delete.connect(figures_on_team_delete, sender=Team, dispatch_uid="outcomes.figures.team_delete")
