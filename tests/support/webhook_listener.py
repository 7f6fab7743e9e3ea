"""A webhook receiver on loopback for the tests: a small threaded http.server that records every POST (headers
and raw body) and answers with the status the test sets (200, or 500 to make the sender retry)."""

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)

    def signed_with(self, secret: str) -> bool:
        """What a receiver does: recompute the HMAC-SHA256 of the raw body and compare in constant time."""
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("hjp-signature", ""))


class WebhookListener:
    def __init__(self):
        self.status = 200
        self.next_statuses: list[int] = []  # answered first, in order, before `status`
        self._received: list[Received] = []
        self._answered: list[int] = []
        self._lock = threading.Lock()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with listener._lock:
                    status = listener.next_statuses.pop(0) if listener.next_statuses else listener.status
                    listener._received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    listener._answered.append(status)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/hjp"

    def start(self) -> "WebhookListener":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def answered(self) -> list[int]:
        with self._lock:
            return list(self._answered)
