"""make bench's gunicorn writes no access line per request (they would bury the bench's report), and nothing else
it logs is silenced: the same gunicorn with the access log on writes the line."""

import os
import sys
from pathlib import Path

import pytest

from bench import http
from tests.support.celery_worker import database_url, free_port


@pytest.mark.django_db
@pytest.mark.parametrize("access_log", [False, True])
def test_the_bench_gunicorn_writes_no_access_line_unless_asked(tmp_path, access_log):
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hjp.settings.bench", "DATABASE_URL": database_url()}
    log = tmp_path / "gunicorn.log"
    with log.open("w") as output:
        with http.Gunicorn(
            python_bin=str(Path(sys.executable).parent), port=port, env=env, access_log=access_log, output=output
        ):
            status, _ = http.get("127.0.0.1", port, "/accounts/login/", "")
    assert status == 200
    access_lines = [line for line in log.read_text().splitlines() if '"logger": "hjp.access"' in line]
    # The login page's line. The start's check for an answer asks the liveness probe, which is answered before
    # the access log (hjp.operations.probes), so it writes none.
    assert len(access_lines) == (1 if access_log else 0)
    if access_log:
        assert '"route": "login"' in access_lines[0]
