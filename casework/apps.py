from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = "Casework"

    def ready(self):
        from casework.receivers import cancel_evidence_requests_on_scope_2_withdrawal, stop_case_on_consent_withdrawal
        from casework.services.erasure import cases_erase
        from referrals.services.erasure import register_eraser
        from referrals.signals import consent_scope_changed, consent_withdrawn

        consent_withdrawn.connect(stop_case_on_consent_withdrawal, dispatch_uid="casework.stop_case")
        consent_scope_changed.connect(
            cancel_evidence_requests_on_scope_2_withdrawal, dispatch_uid="casework.cancel_evidence_requests"
        )
        # What cases hold about a patient goes by the one erasure path (withdrawal and retention alike).
        register_eraser(cases_erase)
