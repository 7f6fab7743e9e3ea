from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes and reports"

    def ready(self):
        from outcomes.receivers import redact_outcomes_on_consent_withdrawal
        from referrals.signals import consent_withdrawn

        consent_withdrawn.connect(redact_outcomes_on_consent_withdrawal, dispatch_uid="outcomes.redact_outcomes")
