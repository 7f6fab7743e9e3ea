"""A fake GOV.UK Notify on loopback: checks each request's API key JWT as Notify does (HS256, signed with the
key's secret, `iss` the service id, `iat` within 30 seconds) and records what was sent."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"hjp_test-{SERVICE_ID}-{SECRET}"


class FakeNotify:
    def __init__(self, *, fail_with: int | None = None):
        self.requests: list[dict] = []
        self.refused: list[str] = []
        self.fail_with = fail_with
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                problem = fake.check(self.headers.get("Authorization", ""))
                if problem:
                    fake.refused.append(problem)
                    return self.answer(403, {"errors": [{"error": "AuthError", "message": problem}]})
                if fake.fail_with:
                    return self.answer(fake.fail_with, {"errors": [{"error": "Error", "message": "down"}]})
                data = json.loads(body)
                fake.requests.append({"path": self.path, "json": data, "user_agent": self.headers.get("User-agent")})
                self.answer(201, {"id": str(uuid.uuid4()), "reference": data.get("reference"), "content": {}})

            def answer(self, status, payload):
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def check(self, authorization: str) -> str:
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or not token:
            return "Unauthorized: authentication token must be provided"
        try:
            claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["iss", "iat"]})
        except jwt.PyJWTError as error:
            return f"Invalid token: {error}"
        if claims["iss"] != SERVICE_ID:
            return "Invalid token: service not found"
        if abs(time.time() - claims["iat"]) > 30:
            return "Invalid token: expired"
        return ""

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
