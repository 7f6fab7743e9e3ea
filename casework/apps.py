from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = "Casework"

    def ready(self):
        from casework.receivers import stop_case_on_consent_withdrawal
        from referrals.signals import consent_withdrawn

        consent_withdrawn.connect(stop_case_on_consent_withdrawal, dispatch_uid="casework.stop_case")
