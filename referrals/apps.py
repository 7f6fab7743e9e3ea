from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Referrals"

    def ready(self):
        from hjp.notifications.selectors import register_referral_labeller
        from referrals.selectors import message_patient_labels

        # The inbox names the patient of each message (initials, date of birth) where the reader may see them.
        register_referral_labeller(message_patient_labels)
