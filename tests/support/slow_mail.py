import os
import time

from django.core.mail.backends.filebased import EmailBackend


class SlowFileBackend(EmailBackend):
    """Takes HJP_TEST_EMAIL_DELAY seconds before writing each email, so a test can kill a worker mid-send."""

    def send_messages(self, email_messages):
        time.sleep(float(os.environ.get("HJP_TEST_EMAIL_DELAY", "0")))
        return super().send_messages(email_messages)
