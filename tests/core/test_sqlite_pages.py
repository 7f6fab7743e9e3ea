"""`make run` gives a new user SQLite, the test suite PostgreSQL: every page a demo user can reach by clicking
must work on both. A separate process seeds the demo into a new SQLite database and follows every link."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_page_a_demo_user_can_click_to_works_on_sqlite(tmp_path):
    report = tmp_path / "crawl.json"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'hjp.sqlite3'}",
        "REDIS_URL": "",
        "DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "hjp.settings.local",
        "PRIVATE_MEDIA_ROOT": str(tmp_path / "media"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.sqlite_crawl", str(report)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    crawl = json.loads(report.read_text())
    assert crawl["failures"] == []
    # Each role really got past its home page: referrers, advisors and managers each reach their own pages.
    visited = crawl["visited"]
    assert all(visited[f"{who}@demo.hjp.test"] >= 4 for who in ("gp", "advisor", "supervisor", "manager", "funder"))
