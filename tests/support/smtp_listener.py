"""A small SMTP server on loopback for the tests: it records every email it receives, with its Message-ID, and
can be told to hold back its answers, so a test can kill a worker while the mail server already has an email
(`hold_data_reply`) or make a mail server that hangs (`hang_on_data`)."""

import email
import email.policy
import socket
import socketserver
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class ReceivedEmail:
    message_id: str
    to: list[str]
    subject: str
    text: str


class SmtpListener:
    """Speaks enough SMTP for Django's SMTP backend (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), no TLS.

    - `hold_data_reply`: after the whole email has arrived, record it but hold the final "250" to DATA
      until `release()` (the window in which the mail server has the email and the sender does not know).
    - `hang_on_data`: never answer the DATA command at all, like a mail server that hangs.
    - `refuse`: addresses it refuses as recipients (550), like a mail server that knows no such mailbox.
    """

    def __init__(self, *, hold_data_reply: bool = False, hang_on_data: bool = False, refuse: frozenset = frozenset()):
        self.hold_data_reply = hold_data_reply
        self.hang_on_data = hang_on_data
        self.refuse = {address.upper() for address in refuse}
        self.received: list[ReceivedEmail] = []
        self.data_commands = 0
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.listener = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="smtp-listener", daemon=True)

    def start(self) -> "SmtpListener":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def release(self) -> None:
        """Let held and hung conversations go on (or end, if the client went away)."""
        self._released.set()

    def emails(self) -> list[ReceivedEmail]:
        with self._lock:
            return list(self.received)

    def message_ids(self) -> list[str]:
        return [received.message_id for received in self.emails()]

    def _record(self, raw: bytes) -> None:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        received = ReceivedEmail(
            message_id=str(parsed["Message-ID"] or "").strip(),
            to=[str(address) for address in parsed.get_all("To", [])],
            subject=str(parsed["Subject"] or ""),
            text=body.get_content() if body is not None else "",
        )
        with self._lock:
            self.received.append(received)

    def _wait_released(self, connection: socket.socket) -> None:
        """Block until released or until the client has gone (a killed worker, a timed-out client)."""
        connection.settimeout(0.2)
        while not self._released.is_set():
            try:
                if connection.recv(1, socket.MSG_PEEK) == b"":
                    return
                self._released.wait(0.2)
            except TimeoutError:
                continue
            except OSError:
                return
        connection.settimeout(None)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    listener: SmtpListener


class _Handler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        listener = self.server.listener
        self.reply("220 hjp-test-smtp ready")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode(errors="replace").strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self.reply("250 hjp-test-smtp")
            elif command.startswith("RCPT") and any(f"<{address}>" in command for address in listener.refuse):
                self.reply("550 No such mailbox")
            elif command.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                self.reply("250 OK")
            elif command == "DATA":
                with listener._lock:
                    listener.data_commands += 1
                if listener.hang_on_data:
                    listener._wait_released(self.connection)
                    return
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                raw = self._read_data()
                if raw is None:
                    return
                listener._record(raw)
                if listener.hold_data_reply:
                    listener._wait_released(self.connection)
                self.reply("250 OK queued")
            elif command == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")

    def _read_data(self) -> bytes | None:
        lines = []
        while True:
            line = self.rfile.readline()
            if not line:
                return None
            if line in (b".\r\n", b".\n"):
                return b"".join(lines)
            lines.append(line[1:] if line.startswith(b"..") else line)
