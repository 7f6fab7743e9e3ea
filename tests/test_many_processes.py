"""hjp on several machines, on one: two web processes (gunicorn, as the Procfile runs it) and two Celery workers
on loopback, against one PostgreSQL database and one Redis broker. Referrers and an advisor sign in over HTTP
(password and authenticator code) and work the loop through either web process, as behind a load balancer; one
web process and one worker are killed with SIGKILL mid-run, and the others finish. Nothing is lost or
duplicated: every referral submitted exists once, every status notice is in the inbox once, and no email is sent
twice (at most once, as the README promises: an email a killed worker was handing over stays "sending", to be
marked for a person to check, and is never sent again)."""

import http.client
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from hjp.notifications.models import Delivery, Message, MessageKind
from hjp.notifications.services import email_message_id
from hjp.notifications.tasks import sweep_undelivered
from referrals.models import ProblemCategory, Referral, ReferralStatus
from tests import factories
from tests.support.auth import authenticator_for, totp_code
from tests.support.celery_worker import celery_publishing_to, database_url, free_port, start_worker, wait_for
from tests.support.forms import once
from tests.support.smtp_listener import SmtpListener

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
DOWN = (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected)


class WebProcess:
    """`gunicorn hjp.wsgi` (the Procfile's web process) with the test settings, on a port of its own."""

    def __init__(self, env: dict[str, str], log: Path):
        self.port = free_port()
        self.log = log
        self.process = subprocess.Popen(
            [GUNICORN, "hjp.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--timeout", "60"],
            cwd=ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: master and worker die together
        )

    def ready(self) -> bool:
        assert self.process.poll() is None, f"gunicorn stopped:\n{self.log.read_text()}"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/healthz/live")
            return conn.getresponse().status == 200
        except OSError:
            return False

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)


class Browser:
    """One person's browser. A load balancer sends each request to the web process asked for, or to another
    when that one does not answer. Every response's status is kept, to check that none was a server error."""

    def __init__(self, webs: list[WebProcess], statuses: list[int]):
        self.webs, self.statuses, self.cookies = webs, statuses, {}

    def request(self, method: str, path: str, data: dict | None = None, *, via: int = 0) -> http.client.HTTPResponse:
        body = None
        if data is not None:
            body = urlencode({**data, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}, doseq=True)
        for web in self.webs[via:] + self.webs[:via]:
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=60)
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.text = response.read().decode()
            except DOWN:
                continue  # that web process is gone: the next one takes the request
            finally:
                conn.close()
            for header in response.headers.get_all("Set-Cookie") or []:
                self.cookies.update({name: morsel.value for name, morsel in SimpleCookie(header).items()})
            self.statuses.append(response.status)
            return response
        raise AssertionError("no web process answered")

    def sign_in(self, user, *, via: int) -> None:
        """As a person does: the password, then the code their authenticator app shows."""
        device = authenticator_for(user)
        self.request("GET", reverse("login"), via=via)
        response = self.request(
            "POST", reverse("login"), {"username": user.email, "password": factories.PASSWORD}, via=via
        )
        assert response.status == 302, response.text
        code = totp_code(device)
        response = self.request("POST", reverse("accounts:verify"), {"totp-kind": "totp", "totp-code": code}, via=via)
        assert response.status == 302, response.text


def referral_form(partnership, number: int) -> dict:
    benefits = ProblemCategory.objects.get(code="benefits")
    return once(
        {
            "action": "submit",
            "consent-given_by": "patient",
            "consent-method": "verbal",
            "consent-given_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "consent-share_with_advice_service": "on",
            "patient-given_name": "Patient",
            "patient-family_name": f"Number{number}",
            "patient-date_of_birth_day": "14",
            "patient-date_of_birth_month": "3",
            "patient-date_of_birth_year": str(1950 + number),
            "patient-address": "12 Mill Lane",
            "patient-postcode": "LS6 2AB",
            "patient-phone": "07700 900123",
            "patient-preferred_contact_method": "phone",
            "referral-partnership": str(partnership.pk),
            "referral-categories": [str(benefits.pk)],
            "referral-description": "PIP refused after assessment.",
            "referral-urgency": "routine",
            "referral-setting": "primary_care",
        },
        prefix="referral",
    )


def test_two_web_processes_and_two_workers_lose_nothing_and_duplicate_nothing_when_one_of_each_is_killed(
    redis_url, tmp_path, partnership, health_org, advice_org
):
    referrers = [factories.referrer(health_org), factories.referrer(health_org)]
    advisor = factories.advisor(advice_org)
    smtp = SmtpListener().start()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hjp.settings.test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "HJP_TEST_SMTP_PORT": str(smtp.port),
        "NOTIFICATION_SWEEP_GRACE_SECONDS": "1",
        "PYTHONPATH": str(ROOT),
    }
    webs = [WebProcess(env, tmp_path / f"web{n}.log") for n in (1, 2)]
    workers = []
    statuses: list[int] = []
    try:
        with celery_publishing_to(redis_url):
            sweep_env = {"NOTIFICATION_SWEEP_GRACE_SECONDS": "1"}
            for n in (1, 2):
                workers.append(
                    start_worker(broker_url=redis_url, workdir=tmp_path / f"worker{n}", smtp=smtp, env=sweep_env)
                )
            wait_for(lambda: all(web.ready() for web in webs), timeout=60, what="both web processes")

            # Each signs in once, through either web process: the session lives in the database, not in one process.
            referrer_browsers = [Browser(webs, statuses), Browser(webs, statuses)]
            for number, (browser, user) in enumerate(zip(referrer_browsers, referrers, strict=True)):
                browser.sign_in(user, via=number % 2)
            advisor_browser = Browser(webs, statuses)
            advisor_browser.sign_in(advisor, via=1)

            submitted = []

            def submit(number: int) -> None:
                browser = referrer_browsers[number % 2]
                form = referral_form(partnership, number)
                browser.request("GET", reverse("referrals:create"), via=number % 2)
                response = browser.request("POST", reverse("referrals:create"), form, via=(number + 1) % 2)
                assert response.status == 302, response.text
                submitted.append(f"Number{number}")

            def accept(referral: Referral, via: int) -> None:
                response = advisor_browser.request(
                    "POST", reverse("casework:accept", args=[referral.pk]), once(), via=via
                )
                assert response.status == 302, response.text

            for number in range(4):
                submit(number)
            first = list(Referral.objects.order_by("pk"))
            accept(first[0], via=0)
            accept(first[1], via=1)
            wait_for(lambda: Message.objects.filter(status="delivered").exists(), timeout=30, what="a delivery")

            # Mid-run: a web process and a worker die at once, with no chance to tidy up.
            webs[0].kill()
            killed = workers[0]
            for pid in killed.pool_children():
                os.kill(pid, signal.SIGKILL)
            killed.process.kill()
            killed.process.wait(timeout=30)

            accept(first[2], via=0)  # sent to the dead web process first: the other one serves it
            for number in range(4, 6):
                submit(number)
            accept(Referral.objects.get(patient__family_name="Number4"), via=0)

            # What beat does every NOTIFICATION_SWEEP_SECONDS: hand over again what a dead worker left undelivered.
            def settled() -> bool:
                sweep_undelivered.delay()
                undelivered = Message.objects.exclude(status=Message.Status.DELIVERED).exists()
                unsent = Delivery.objects.filter(status__in=["pending", "failed"]).exists()
                return not undelivered and not unsent

            wait_for(settled, timeout=45, interval=1, what="every message delivered")
            workers[1].wait_idle(timeout=30)
    finally:
        for web in webs:
            web.kill(signal.SIGTERM)
        for worker in workers:
            worker.stop()
        smtp.stop()

    assert statuses and all(status < 500 for status in statuses), statuses
    for web in webs:
        assert "Traceback" not in web.log.read_text(), web.log.read_text()

    # Every referral submitted exists once; the four accepted each have one case.
    assert sorted(Referral.objects.values_list("patient__family_name", flat=True)) == sorted(submitted)
    accepted = Referral.objects.filter(status=ReferralStatus.ACCEPTED)
    assert accepted.count() == 4 and all(referral.case for referral in accepted)

    # One status notice per acceptance, each in its referrer's inbox exactly once.
    notices = Message.objects.filter(kind=MessageKind.STATUS_NOTICE)
    assert sorted(notices.values_list("referral_id", flat=True)) == sorted(accepted.values_list("pk", flat=True))
    for message in notices:
        inbox = message.deliveries.get(channel=Delivery.Channel.INBOX)
        assert message.status == Message.Status.DELIVERED and inbox.status == "sent" and inbox.attempts == 1

    # Email: at most once. No Message-ID reached the mail server twice; every email recorded sent arrived once;
    # one that the killed worker was handing over stays "sending" (never sent again), having arrived at most once.
    arrived = Counter(smtp.message_ids())
    assert all(count == 1 for count in arrived.values()), arrived
    for email in Delivery.objects.filter(channel=Delivery.Channel.EMAIL):
        if email.status == Delivery.Status.SENT:
            assert arrived[email_message_id(email.pk)] == 1
        else:
            assert email.status == Delivery.Status.SENDING and arrived[email_message_id(email.pk)] <= 1
    assert Delivery.objects.filter(channel="email", status="sent").count() >= 3
