"""Production fails closed: it refuses to start without its database and broker, never runs Celery tasks inside
the web request, and the Procfile serves it with gunicorn (DEBUG off, whatever the environment says)."""

import contextlib
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from tests.support.production import PRODUCTION_ENVIRONMENT

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = PRODUCTION_ENVIRONMENT


def _environment(settings: dict[str, str], *, without: tuple[str, ...] = ()) -> dict[str, str]:
    """This process's environment less anything that chooses settings, plus `settings` less `without`."""
    chosen = {*SETTINGS, "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "STATIC_ROOT", "PORT", "WEB_HOST", "WEB_CONCURRENCY"}
    chosen |= {"LOG_FORMAT", "METRICS_TOKEN", "PROMETHEUS_MULTIPROC_DIR", "EVIDENCE_STORAGE"}
    env = {name: value for name, value in os.environ.items() if name not in chosen}
    env.update({name: value for name, value in settings.items() if name not in without})
    return env


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("DATABASE_URL", "DATABASE_URL must be set in production"),
        ("REDIS_URL", "REDIS_URL must be set in production"),
        ("TRUSTED_PROXY_COUNT", "TRUSTED_PROXY_COUNT must be set in production"),
    ],
)
def test_production_refuses_to_start_without_its_database_broker_or_proxy_count(missing, message):
    result = _manage("check", env=_environment(SETTINGS, without=(missing,)))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_production_refuses_an_empty_database_url_as_well():
    result = _manage("check", env=_environment({**SETTINGS, "DATABASE_URL": ""}))
    assert result.returncode != 0 and "DATABASE_URL must be set in production" in result.stderr


def test_production_with_everything_set_passes_the_deploy_check_with_no_warning():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_environment(SETTINGS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_never_runs_celery_tasks_inside_the_request():
    # CELERY_TASK_ALWAYS_EAGER in the environment (which the test settings read) changes nothing in production.
    env = _environment({**SETTINGS, "CELERY_TASK_ALWAYS_EAGER": "true", "DEBUG": "true"})
    script = "from django.conf import settings as s; print(s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL, s.DEBUG)"
    result = _manage("shell", "--no-imports", "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", SETTINGS["REDIS_URL"], "False"]


def _procfile_command(process: str) -> str:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return next(line.split(":", 1)[1].strip() for line in lines if line.startswith(f"{process}:"))


@pytest.mark.parametrize("process", ["web", "worker", "beat"])
def test_every_procfile_process_runs_with_production_settings(process):
    words = shlex.split(_procfile_command(process))
    assert words[0] == "DJANGO_SETTINGS_MODULE=hjp.settings.production"
    assert "runserver" not in words


def _free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _test_database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@contextlib.contextmanager
def procfile_web(*, redis_url: str, tmp_path: Path, **environment: str):
    """The Procfile's web process, started as a process manager would, on a free loopback port, with production
    settings, the test database and collected static files (and `environment` on top); stopped (the whole process
    group) at the end. Gives the base URL and the log file."""
    port = _free_loopback_port()
    settings = {
        **SETTINGS,
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": redis_url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(tmp_path / "static"),
        "DEBUG": "true",  # production turns it off whatever the environment says
        "PORT": str(port),
        "WEB_HOST": "127.0.0.1",
        "WEB_CONCURRENCY": "1",
        **environment,
    }
    env = _environment(settings)
    collected = _manage("collectstatic", "--noinput", env=env)
    assert collected.returncode == 0, collected.stderr
    log = tmp_path / "gunicorn.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            ["sh", "-c", _procfile_command("web")],
            cwd=ROOT,
            # A shell that still says local (DEBUG on): the Procfile's own setting wins.
            env={**env, "DJANGO_SETTINGS_MODULE": "hjp.settings.local"},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            assert server.poll() is None, f"gunicorn stopped:\n{log.read_text()}"
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail(f"gunicorn did not listen on {port}:\n{log.read_text()}")
        yield base, log
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture
def gunicorn(db, redis_url, tmp_path):
    with procfile_web(redis_url=redis_url, tmp_path=tmp_path) as running:
        yield running


def test_the_procfile_serves_production_with_gunicorn(gunicorn):
    base, log = gunicorn
    status, body = _get(f"{base}/healthz/live")
    assert (status, body) == (200, '{"status": "ok"}'), log.read_text()
    assert f"Listening at: {base}" in log.read_text() and "Booting worker with pid" in log.read_text()

    # DEBUG is off: an unknown address gets the site's own 404 page, not Django's debug page listing the URLs.
    status, body = _get(f"{base}/no-such-page/")
    assert status == 404
    assert "There is nothing here, or you do not have access to it." in body
    assert "URLconf" not in body and "DEBUG = True" not in body
    # The collected static files are served (WhiteNoise, hashed names from the manifest).
    stylesheet = re.search(r'href="(/static/[^"]+\.css)"', body).group(1)
    assert re.search(r"\.[0-9a-f]{12}\.css$", stylesheet)
    assert _get(f"{base}{stylesheet}")[0] == 200
