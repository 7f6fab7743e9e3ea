"""Start a real Celery worker against real Redis and the test database, for the tests marked celery_worker."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

from hjp.celery import app
from tests.support.smtp_listener import ReceivedEmail, SmtpListener

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def wait_for(predicate, *, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout}s waiting for {what}")


def use_broker(url: str) -> None:
    """Point this (test) process's Celery app at a broker, dropping pooled connections to the old one."""
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@dataclass
class Worker:
    process: subprocess.Popen
    log_path: Path
    smtp: SmtpListener
    owns_smtp: bool

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def finished(self, task_id: str) -> str | None:
        """The log line saying the task with this id finished (succeeded, raised or will retry), or None."""
        match = re.search(rf"^.*\[{re.escape(task_id)}\] (succeeded|raised|retry).*$", self.log(), re.MULTILINE)
        return match.group(0) if match else None

    def wait_finished(self, task_id: str, *, timeout: float = 30) -> str:
        """Wait until the task with this id has finished on this worker; returns its log line."""
        return wait_for(lambda: self.finished(task_id), timeout=timeout, what=f"task {task_id} to finish")

    def unfinished_tasks(self) -> set[str]:
        """Ids of the tasks this worker received and has not finished yet."""
        log = self.log()
        received = set(re.findall(r"\[([0-9a-f-]{36})\] received", log))
        done = set(re.findall(r"\[([0-9a-f-]{36})\] succeeded", log))
        return received - done

    def wait_idle(self, *, timeout: float = 30) -> None:
        """Wait until every task the worker received has succeeded: nothing it was handed is still to run."""
        wait_for(lambda: not self.unfinished_tasks(), timeout=timeout, what="the worker to finish every task")

    def emails(self) -> list[ReceivedEmail]:
        """Every email the worker handed to the mail server, in the order the mail server received them."""
        return self.smtp.emails()

    def pool_children(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.owns_smtp:
            self.smtp.stop()


def start_worker(
    *, broker_url: str, workdir: Path, smtp: SmtpListener | None = None, env: dict[str, str] | None = None
) -> Worker:
    """A worker that sends email over real SMTP (Django's SMTP backend) to `smtp`, or to a listener of its own
    that accepts everything. `env` adds settings, e.g. {"EMAIL_TIMEOUT": "2"}."""
    owns_smtp = smtp is None
    if smtp is None:
        smtp = SmtpListener().start()
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hjp.settings.test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "HJP_TEST_SMTP_PORT": str(smtp.port),
        "PYTHONPATH": str(ROOT),
        **(env or {}),
    }
    process = subprocess.Popen(
        [
            CELERY,
            "-A",
            "hjp",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"test-{uuid.uuid4().hex[:8]}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
    )
    worker = Worker(process, log_path, smtp, owns_smtp)
    try:
        wait_for(lambda: " ready." in worker.log() or process.poll() is not None, timeout=60, what="worker start")
    except AssertionError:
        worker.stop()
        raise
    if process.poll() is not None:
        raise AssertionError(f"The Celery worker exited at start:\n{worker.log()}")
    return worker


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PrivateRedis:
    """A Redis server of the test's own, so a test can stop and restart the broker without touching others."""

    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise AssertionError("redis-server is not installed: the broker outage test needs it")
        self.process = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=15, what="redis-server")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        wait_for(lambda: not self._answers(), timeout=10, what="redis-server to stop")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextmanager
def celery_publishing_to(url: str):
    """Let this process publish tasks to a real broker instead of running them in-process."""
    old_url, old_eager = app.conf.broker_url, app.conf.task_always_eager
    use_broker(url)
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = old_eager
        use_broker(old_url)
