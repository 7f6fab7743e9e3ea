from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = "Casework"

    def ready(self):
        from casework.receivers import (
            cancel_evidence_requests_on_scope_2_withdrawal,
            redact_entered_in_error_reasons_on_consent_withdrawal,
            stop_case_on_consent_withdrawal,
        )
        from referrals.signals import consent_scope_changed, consent_withdrawn

        consent_withdrawn.connect(stop_case_on_consent_withdrawal, dispatch_uid="casework.stop_case")
        consent_withdrawn.connect(
            redact_entered_in_error_reasons_on_consent_withdrawal, dispatch_uid="casework.redact_in_error_reasons"
        )
        consent_scope_changed.connect(
            cancel_evidence_requests_on_scope_2_withdrawal, dispatch_uid="casework.cancel_evidence_requests"
        )
