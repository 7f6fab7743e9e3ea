"""Timing pages over HTTP against gunicorn: single-user latency (sequential requests) and throughput (wrk,
interleaved with the bare view so that the machine's other work weighs on both alike)."""

import http.client
import math
import re
import shutil
import subprocess
import time
from dataclasses import dataclass

from hjp.operations.probes import LIVE_PATH

WRK_MISSING = (
    "make bench needs wrk (https://github.com/wg/wrk) for the throughput: `sudo apt-get install wrk` on Debian or "
    "Ubuntu, `brew install wrk` on macOS."
)


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p95_ms: float


def get(host: str, port: int, path: str, cookie: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(host, port, timeout=60)
    try:
        connection.request("GET", path, headers={"Cookie": cookie, "Host": host})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def latency(host: str, port: int, path: str, cookie: str, requests: int) -> Latency:
    """One user, one request after another: p50 and p95 of `requests` (after one warming request)."""
    get(host, port, path, cookie)
    samples = []
    for _ in range(requests):
        began = time.perf_counter()
        status, _ = get(host, port, path, cookie)
        samples.append((time.perf_counter() - began) * 1000)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}, not 200")
    return Latency(percentile(samples, 0.5), percentile(samples, 0.95))


@dataclass(frozen=True)
class Throughput:
    requests_per_second: float
    errors: int  # non-2xx answers and socket errors: a page that fails would look fast


def wrk(url: str, cookie: str, *, seconds: int, connections: int = 4) -> Throughput:
    wrk_path = shutil.which("wrk")
    if wrk_path is None:
        raise RuntimeError(WRK_MISSING)
    output = subprocess.run(
        [
            wrk_path,
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "-H",
            f"Cookie: {cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rate is None:
        raise RuntimeError(f"wrk said:\n{output}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket:
        # gunicorn's sync workers close every connection, which wrk may count as read errors: not a failure. A
        # timeout (30 s, far beyond any target) is.
        errors += int(socket.group(1)) + int(socket.group(4))
    return Throughput(float(rate.group(1)), errors)


@dataclass(frozen=True)
class Interleaved:
    page: float
    bare: float
    errors: int

    @property
    def ratio(self) -> float:
        return self.page / self.bare if self.bare else 0.0


def interleaved(base: str, path: str, bare_path: str, cookie: str, *, seconds: int, rounds: int) -> Interleaved:
    """bare, page, bare, page ... `rounds` times each; the totals of each."""
    page_rates, bare_rates, errors = [], [], 0
    for _ in range(rounds):
        for target, rates in ((bare_path, bare_rates), (path, page_rates)):
            result = wrk(base + target, cookie, seconds=seconds)
            rates.append(result.requests_per_second)
            errors += result.errors
    return Interleaved(sum(page_rates) / rounds, sum(bare_rates) / rounds, errors)


class Gunicorn:
    """gunicorn with 2 sync workers on loopback, as Procfile's web process runs (production settings, here the
    bench settings that add the bare view), with no access log unless `access_log` (hjp/settings/bench.py: a line
    for each of the tens of thousands of requests would bury the bench's report). Its output goes to `output`
    (a file), or where the bench's own goes."""

    def __init__(
        self,
        *,
        python_bin: str,
        port: int,
        env: dict[str, str],
        workers: int = 2,
        access_log: bool = False,
        output=None,
    ):
        self.port = port
        self.command = [
            f"{python_bin}/gunicorn",
            "hjp.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ]
        self.env = {**env, "BENCH_ACCESS_LOG": "on" if access_log else "off"}
        self.output = output
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(self.command, env=self.env, stdout=self.output, stderr=self.output)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                get("127.0.0.1", self.port, LIVE_PATH, "")  # answers once the process serves
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("gunicorn stopped while starting (see above)") from None
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer within a minute")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=30)
