"""How fast one Celery worker process delivers the outbox: `manage.py bench_delivery --messages 2000`.

Queues N status notices to one invented user (inbox and email each), with the broker up and no worker
running; then starts `celery -A hjp worker --pool prefork --concurrency 1` (or `--pool solo`) with the console
email backend and DEBUG off, waits until every email is sent, and reports messages per second from the first
delivery to the last, as the database recorded them (the inbox's `delivered_at`, the email's `sent_at`), and the CPU
the worker's processes used from its first delivery to its last task (its start left out). The bench's messages
and user are deleted afterwards. Needs DATABASE_URL and REDIS_URL, and no other worker on that broker
(it would share the work)."""

import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max, Min

from hjp.accounts.models import User
from hjp.notifications.models import Delivery, Message, MessageKind
from hjp.notifications.services import message_queue

BENCH_EMAIL = "bench-delivery@bench.hjp.test"
CELERY = str(Path(sys.executable).with_name("celery"))


class Command(BaseCommand):
    help = "Measure how many outbox messages one Celery worker process delivers a second (console email)."

    def add_arguments(self, parser):
        parser.add_argument("--messages", type=int, default=2000)
        parser.add_argument("--timeout", type=int, default=300, help="Give up after this many seconds.")
        parser.add_argument(
            "--pool",
            choices=["prefork", "solo"],
            default="prefork",
            help="prefork (the default, as the Procfile runs it: a parent process and one child that runs the "
            "tasks) or solo (the tasks run in the worker process itself).",
        )

    def handle(self, *args, messages: int, timeout: int, pool: str, **options):
        if messages < 2:
            raise CommandError("--messages must be at least 2.")
        if connection.vendor != "postgresql" or not settings.REDIS_URL:
            raise CommandError("bench_delivery needs PostgreSQL and a broker: set DATABASE_URL and REDIS_URL.")
        queued = _broker_backlog()
        if queued:
            raise CommandError(f"The broker already holds {queued} task(s); let them run (or use an empty Redis db).")
        run = uuid.uuid4().hex[:8]
        user = _bench_user()
        try:
            self.stdout.write(f"Queueing {messages} messages (inbox and email each)...")
            with transaction.atomic():
                for i in range(messages):
                    message_queue(
                        recipient=user,
                        kind=MessageKind.STATUS_NOTICE,
                        key=f"bench:{run}:{i}",
                        subject="Referral accepted",
                        body="A referral you made was accepted by the advice service.",
                        url="/",
                    )
            self.stdout.write(f"Starting one worker process; waiting for {messages} deliveries...")
            cpu_before = _children_cpu_seconds()
            elapsed, delivering_cpu = self._run_worker(run=run, messages=messages, timeout=timeout, pool=pool)
            cpu = _children_cpu_seconds() - cpu_before
            bench = Delivery.objects.filter(message__key__startswith=f"bench:{run}:")
            span = bench.aggregate(first=Min("message__delivered_at"), last=Max("sent_at"))
            seconds = (span["last"] - span["first"]).total_seconds()
            self.stdout.write(
                f"{messages} messages delivered (inbox + console email) by one worker process ({pool}) in {seconds:.2f} s "
                f"from first to last: {messages / seconds:.0f} messages/s "
                f"({elapsed:.1f} s from the worker's start; the worker used {cpu:.1f} s of CPU, start included, "
                f"{delivering_cpu:.2f} s from its first delivery to its last task: "
                f"{1000 * delivering_cpu / messages:.2f} ms a message, {messages / delivering_cpu:.0f} messages a CPU-second; "
                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)."
            )
        finally:
            Message.objects.filter(key__startswith=f"bench:{run}:").delete()
            user.delete()

    def _run_worker(self, *, run: str, messages: int, timeout: int, pool: str) -> tuple[float, float]:
        """Run the worker until every email is sent and the broker is empty. Returns the seconds from its start,
        and the CPU seconds its processes used from its first delivery (its start is over) to then."""
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
            "DEBUG": "false",
            "EMAIL_HOST": "",  # the console backend
        }
        sent = Delivery.objects.filter(
            message__key__startswith=f"bench:{run}:", channel=Delivery.Channel.EMAIL, status=Delivery.Status.SENT
        )
        with tempfile.TemporaryFile() as log:
            started = time.monotonic()
            worker = subprocess.Popen(
                [CELERY, "-A", "hjp", "worker", "--pool", pool, "--concurrency", "1", "--loglevel", "WARNING"]
                + ["--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"bench-{run}@%h"],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                delivered = Message.objects.filter(key__startswith=f"bench:{run}:", status=Message.Status.DELIVERED)
                while not delivered.exists():
                    self._check(worker, log, started, timeout, done=0, messages=messages)
                    time.sleep(0.01)
                cpu_at_first = _process_tree_cpu_seconds(worker.pid)
                while (done := sent.count()) < messages:
                    self._check(worker, log, started, timeout, done=done, messages=messages)
                    time.sleep(0.5)
                elapsed = time.monotonic() - started
                while _broker_backlog() and time.monotonic() - started < timeout:
                    time.sleep(0.1)  # the tasks of messages that went with an earlier batch: nothing left to do
                return elapsed, _process_tree_cpu_seconds(worker.pid) - cpu_at_first
            finally:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()

    @staticmethod
    def _check(worker, log, started: float, timeout: int, *, done: int, messages: int) -> None:
        if worker.poll() is not None:
            log.seek(0)
            raise CommandError(f"The worker stopped:\n{log.read().decode(errors='replace')[-3000:]}")
        if time.monotonic() - started > timeout:
            raise CommandError(f"Only {done} of {messages} delivered after {timeout} s.")


def _process_tree_cpu_seconds(pid: int) -> float:
    """The CPU seconds (user and system) a running process and its living children have used, from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, pids = 0, [pid]
    while pids:
        current = pids.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except FileNotFoundError:
            continue  # it ended meanwhile
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        total += int(fields[11]) + int(fields[12])  # utime, stime
        pids.extend(int(child) for child in children)
    return total / ticks


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _broker_backlog() -> int:
    """The tasks waiting in the broker, and those a worker holds unacknowledged (kombu's `unacked` hash): a
    worker stopped while it holds one gives it back to the queue."""
    broker = redis.Redis.from_url(settings.REDIS_URL)
    return broker.llen("celery") + broker.hlen("unacked")


def _bench_user() -> User:
    user, _ = User.objects.get_or_create(email=BENCH_EMAIL, defaults={"full_name": "Bench Delivery"})
    return user
