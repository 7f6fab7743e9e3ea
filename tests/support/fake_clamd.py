"""A stand-in for ClamAV's clamd on loopback, speaking its INSTREAM protocol: it reports a signature for any
stream holding the EICAR test string and OK for every other. `down_clamd_url()` gives the address of a
scanner that is not running; `unix_socket` makes one listen on a socket file; `silent` makes one that takes the stream and never answers."""

import socketserver
import struct
import threading

# The antivirus test file (eicar.org), put together here so that this source file does not itself carry it.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE = "Eicar-Test-Signature"


class FakeClamd:
    def __init__(self, *, silent: bool = False, unix_socket: str = ""):
        self.streams: list[bytes] = []
        self.silent = silent
        self.stop_silence = threading.Event()
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                command = b""
                while not command.endswith((b"\0", b"\n")):
                    data = self.request.recv(1)
                    if not data:
                        return
                    command += data
                if command[1:-1] != b"INSTREAM":  # zINSTREAM\0 or nINSTREAM\n
                    self.request.sendall(b"UNKNOWN COMMAND\0")
                    return
                chunks = []
                while (length := struct.unpack(">I", self._exactly(4))[0]) != 0:
                    chunks.append(self._exactly(length))
                stream = b"".join(chunks)
                fake.streams.append(stream)
                if fake.silent:
                    fake.stop_silence.wait(30)
                    return
                reply = f"stream: {SIGNATURE} FOUND" if EICAR in stream else "stream: OK"
                self.request.sendall(reply.encode() + b"\0")

            def _exactly(self, size: int) -> bytes:
                data = b""
                while len(data) < size:
                    part = self.request.recv(size - len(data))
                    if not part:
                        raise ConnectionError("the client went away mid-stream")
                    data += part
                return data

        if unix_socket:  # as clamd usually listens on the same machine
            self.server = socketserver.ThreadingUnixStreamServer(unix_socket, Handler)
        else:
            self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        if isinstance(self.server.server_address, str):
            return f"unix://{self.server.server_address}"
        host, port = self.server.server_address
        return f"tcp://{host}:{port}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.stop_silence.set()
        self.server.shutdown()
        self.server.server_close()


def down_clamd_url() -> str:
    """A loopback address where nothing listens: connecting is refused."""
    with socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler) as server:
        host, port = server.server_address
    return f"tcp://{host}:{port}"
