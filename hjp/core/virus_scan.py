"""The virus-scan step every upload passes before it is checked further or stored.

With CLAMD_URL set, the bytes are streamed to ClamAV's daemon with its INSTREAM command (`zINSTREAM\\0`, then
chunks each prefixed by its length as 4 big-endian bytes, then a zero-length chunk; the answer is
`stream: OK` or `stream: <signature> FOUND`). Without it, nothing is scanned. Another scanner plugs in as
another class with the same `scan(content)` contract, chosen in `configured_scanner`."""

import socket
import struct
from urllib.parse import urlsplit

from django.conf import settings

CHUNK_BYTES = 64 * 1024


class VirusFound(Exception):
    """The scanner recognised malware; `signature` is its name for it (no patient data)."""

    def __init__(self, signature: str):
        super().__init__(f"virus found: {signature}")
        self.signature = signature


class ScannerUnavailable(Exception):
    """The scanner could not give an answer (down, timed out, or refused the stream): fail closed."""


class ClamdScanner:
    def __init__(self, url: str, timeout: float):
        self.url = url
        self.timeout = timeout

    def scan(self, content: bytes) -> None:
        """Return if clamd finds nothing; raise VirusFound or ScannerUnavailable."""
        try:
            with self._connect() as connection:
                connection.sendall(b"zINSTREAM\0")
                for start in range(0, len(content), CHUNK_BYTES):
                    chunk = content[start : start + CHUNK_BYTES]
                    connection.sendall(struct.pack(">I", len(chunk)) + chunk)
                connection.sendall(struct.pack(">I", 0))
                reply = self._read_reply(connection)
        except OSError as exc:  # refused, reset, timed out, no such socket file
            raise ScannerUnavailable(f"clamd at {self.url}: {exc}") from exc
        if reply == "stream: OK":
            return
        if reply.startswith("stream: ") and reply.endswith(" FOUND"):
            raise VirusFound(reply.removeprefix("stream: ").removesuffix(" FOUND"))
        raise ScannerUnavailable(f"clamd at {self.url} answered {reply[:200]!r}")

    def _connect(self) -> socket.socket:
        parts = urlsplit(self.url)
        if parts.scheme == "unix":
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            connection.settimeout(self.timeout)
            try:
                connection.connect(parts.path)
            except OSError:
                connection.close()
                raise
            return connection
        return socket.create_connection((parts.hostname, parts.port or 3310), timeout=self.timeout)

    @staticmethod
    def _read_reply(connection: socket.socket) -> str:
        # With the z prefix, clamd ends its answer with a NUL byte; it may also just close the connection.
        received = b""
        while not received.endswith(b"\0"):
            data = connection.recv(4096)
            if not data:
                break
            received += data
        return received.rstrip(b"\0").decode("utf-8", "replace").strip()


def configured_scanner() -> ClamdScanner | None:
    """The scanner the settings ask for, or None when no scanning is configured."""
    if settings.CLAMD_URL:
        return ClamdScanner(settings.CLAMD_URL, timeout=settings.CLAMD_TIMEOUT_SECONDS)
    return None


def virus_scan(content: bytes) -> None:
    """Scan `content` with the configured scanner, if any; raise VirusFound or ScannerUnavailable."""
    scanner = configured_scanner()
    if scanner is not None:
        scanner.scan(content)
