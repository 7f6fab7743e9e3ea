"""Requests sent at the same moment to the live server (pytest-django's `live_server`, the app served in a
thread on 127.0.0.1), each from its own signed-in browser session, over real HTTP."""

import http.client
import threading
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import connection, transaction

from tests.support.auth import Client


@dataclass
class Response:
    status: int
    location: str
    text: str


class _HiddenInputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.values = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.values[attrs["name"]] = attrs.get("value") or ""


def hidden_inputs(html: str) -> dict:
    """The hidden inputs of a page, as a browser would send them back: CSRF token, one-time token, version."""
    parser = _HiddenInputs()
    parser.feed(html)
    return parser.values


class BrowserSession:
    """One browser signed in as `user`: its own cookies; redirects are not followed, so that where each
    response leads can be checked."""

    def __init__(self, live_server_url: str, user):
        parts = urlsplit(live_server_url)
        self.host, self.port = parts.hostname, parts.port
        client = Client()
        client.force_login(user)
        self.cookies = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}

    def _send(self, method: str, path: str, body: str | None = None) -> Response:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            text = raw.read().decode()
            for header in raw.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return Response(raw.status, raw.headers.get("Location", ""), text)
        finally:
            conn.close()

    def get(self, path: str) -> Response:
        return self._send("GET", path)

    def post(self, path: str, data: dict) -> Response:
        return self._send("POST", path, urlencode(data, doseq=True))


def _backends_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        # Statistics views are read once per transaction unless told otherwise; this runs inside one.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND a.datname = current_database() AND l.pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def send_together(*sends, hold, timeout: float = 20.0) -> list[Response]:
    """Run the `sends` (callables, each one request) in threads released by one barrier, and make sure they
    overlap: while they start, this test holds a row lock on `hold` (the acting user's row, which every write
    they make refers to), releasing it only once every request waits in the database (or has finished).
    Without a fix, each request has passed its own checks by then; with one, they queue on its lock."""
    results: list = [None] * len(sends)
    barrier = threading.Barrier(len(sends))

    def run(i, send):
        try:
            barrier.wait()
            results[i] = send()
        except Exception as exc:  # reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, send)) for i, send in enumerate(sends)]
    with transaction.atomic():
        type(hold).objects.select_for_update().get(pk=hold.pk)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(t.is_alive() for t in threads):
            if _backends_waiting_for_a_lock() >= sum(t.is_alive() for t in threads):
                break
            time.sleep(0.05)
    for thread in threads:
        thread.join(timeout)
    assert all(isinstance(r, Response) for r in results), results
    return results
