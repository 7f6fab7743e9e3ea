"""Seed the demo into a fresh SQLite database (what `make run` gives a new user) and, as each demo user, follow
every link from the home page, the way a curious person clicks through. Writes a JSON list of the pages that
failed (status 500 or an exception) to the path given as the first argument.

Run as a script by tests/core/test_sqlite_pages.py: SQLite behaves differently from PostgreSQL (no interval
arithmetic, floats for decimal sums), and the PostgreSQL test session cannot switch databases.

    DATABASE_URL=sqlite:////tmp/x.sqlite3 python -m tests.support.sqlite_crawl /tmp/failures.json
"""

import json
import os
import re
import sys
from collections import Counter, deque
from io import StringIO

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hjp.settings.local")
if not os.environ.get("DATABASE_URL", "").startswith("sqlite:"):
    sys.exit("Set DATABASE_URL to a SQLite database.")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from hjp.accounts.models import User  # noqa: E402
from tests.support.auth import Client  # noqa: E402

LINK = re.compile(r'href="(/[^"#]*)"')
SKIP = re.compile(r"^/(static/|accounts/logout|accounts/password)")
PER_PATTERN = 2  # pages of one shape (/referrals/<id>/) visited per user
PER_USER = 150


def pattern(url: str) -> str:
    return re.sub(r"\d+", "N", url.split("?")[0])


def crawl(client: Client, email: str) -> tuple[int, list[dict]]:
    seen, failures, shapes = set(), [], Counter()
    queue = deque(["/"])
    while queue and len(seen) < PER_USER:
        url = queue.popleft().replace("&amp;", "&")
        if url in seen or SKIP.match(url) or shapes[pattern(url)] >= PER_PATTERN:
            continue
        seen.add(url)
        shapes[pattern(url)] += 1
        try:
            response = client.get(url, follow=True)
        except Exception as exc:
            failures.append({"user": email, "url": url, "error": f"{type(exc).__name__}: {exc}"[:300]})
            continue
        if response.status_code >= 500:
            failures.append({"user": email, "url": url, "error": f"status {response.status_code}"})
            continue
        if "text/html" in response.get("Content-Type", ""):
            queue.extend(LINK.findall(response.content.decode()))
    return len(seen), failures


def main(out_path: str) -> None:
    setup_test_environment()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_demo", stdout=StringIO())
    failures, visited = [], {}
    for user in User.objects.filter(email__endswith="@demo.hjp.test").order_by("email"):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        visited[user.email], user_failures = crawl(client, user.email)
        failures += user_failures
    with open(out_path, "w") as out:
        json.dump({"visited": visited, "failures": failures}, out)


if __name__ == "__main__":
    main(sys.argv[1])
