"""`manage.py bench` (`make bench`): on the scale database (a seed_scale history), in one go:
1. the query count of every page of bench/pages.py, on a small history (300 referrals, in a database of its
   own, made the first time) and on this large one: exact, flagged when they differ or exceed 10;
2. single-user latency per page (p50, p95 of sequential requests) against gunicorn with 2 workers and the
   bench settings (production's, DEBUG off);
3. throughput per page with wrk (4 connections), interleaved with the bare view (bare, page, bare, page ...)
   so that the machine's other work weighs on both; the ratios to the bare view and to the admin changelist.
Then a table, with each target's verdict: at most 10 queries, the same at both sizes; p95 <= 100 ms;
throughput >= 0.5 of the bare view's and >= 2x the admin changelist's."""

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from bench import http
from bench.databases import ensure_database, referral_count
from bench.pages import ADMIN_PAGE, PAGES, Page, bench_users, find_subjects
from bench.queries import session_cookie, signed_in_client
from hjp.accounts.models import Partnership

SMALL_REFERRALS = 300
TARGET_QUERIES = 10
TARGET_P95_MS = 100
TARGET_BARE_RATIO = 0.5
TARGET_ADMIN_RATIO = 2.0
BARE_PATH = "/bench/bare/"
# The yardstick, opened with the referrer's session: every middleware, no page of its own.
BARE = Page("bare view (reference)", "referrer", lambda subjects: BARE_PATH)


class Command(BaseCommand):
    help = "Measure every role's main pages on the scale database: query counts, latency and throughput."

    def add_arguments(self, parser):
        parser.add_argument("--small-database-url", default=os.environ.get("BENCH_SMALL_DATABASE_URL", ""))
        parser.add_argument("--requests", type=int, default=30, help="Sequential requests a page for p50/p95.")
        parser.add_argument("--seconds", type=int, default=4, help="Seconds of each wrk run.")
        parser.add_argument(
            "--rounds", type=int, default=2, help="Interleaved wrk runs of each page (and the bare view)."
        )
        parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8765")))
        parser.add_argument("--queries-only", action="store_true", help="Only the query counts (no gunicorn, no wrk).")
        parser.add_argument("--json", default="", help="Also write the results to this file.")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("make bench measures PostgreSQL: set BENCH_DATABASE_URL to the seed_scale database.")
        if not options["queries_only"] and http.shutil.which("wrk") is None:
            raise CommandError(http.WRK_MISSING)
        if not Partnership.objects.filter(name__startswith="Scale partnership").exists():
            raise CommandError(
                f"{settings.DATABASES['default']['NAME']} holds no seed_scale history: run `make seed-scale` first."
            )
        large_url = os.environ["DATABASE_URL"]
        small_url = options["small_database_url"] or _sibling(large_url, "_small")
        self._prepare_small(small_url)
        self._progress("Counting queries on the small history and on the large one ...")
        small = self._query_counts(small_url)
        large = self._query_counts(large_url)
        rows = {
            page.name: {"role": page.role, "small": small["counts"][page.name], "large": large["counts"][page.name]}
            for page in PAGES
        }
        context = self._context()
        if not options["queries_only"]:
            self._http(rows, options, large_url)
        self._print(rows, context, options)
        if options["json"]:
            Path(options["json"]).write_text(json.dumps({"context": context, "pages": rows}, indent=2))

    def _progress(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    # --- the small history -----------------------------------------------------------------------------
    def _prepare_small(self, url: str) -> None:
        ensure_database(url)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hjp.settings.local", "DEBUG": "true", "DATABASE_URL": url}
        self._manage(["migrate", "--noinput", "-v", "0"], env)
        if referral_count(url) == 0:
            self._progress(f"Seeding the small history ({SMALL_REFERRALS} referrals) in {url.rpartition('/')[2]} ...")
            self._manage(["seed_scale", "--referrals", str(SMALL_REFERRALS)], env)

    def _query_counts(self, url: str) -> dict:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hjp.settings.bench", "DATABASE_URL": url}
        return json.loads(self._manage(["bench_queries"], env).strip().splitlines()[-1])

    def _manage(self, arguments: list[str], env: dict) -> str:
        result = subprocess.run(
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *arguments],
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise CommandError(f"manage.py {' '.join(arguments)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    # --- over HTTP ---------------------------------------------------------------------------------------
    def _http(self, rows: dict, options: dict, large_url: str) -> None:
        users = bench_users()
        subjects = find_subjects(users)
        cookies = {role: session_cookie(signed_in_client(user)) for role, user in users.items()}
        bin_dir = str(Path(sys.executable).parent)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hjp.settings.bench", "DATABASE_URL": large_url}
        port, host = options["port"], "127.0.0.1"
        base = f"http://{host}:{port}"
        with http.Gunicorn(python_bin=bin_dir, port=port, env=env):
            for page in [*PAGES, BARE]:
                status, _ = http.get(host, port, page.url(subjects), cookies[page.role])
                if status != 200:
                    raise CommandError(f"{page.name} ({page.url(subjects)}) answered {status} over HTTP, not 200.")
            bare_latency = http.latency(host, port, BARE_PATH, cookies[BARE.role], options["requests"])
            self._progress(f"Single-user latency ({options['requests']} requests a page) ...")
            for page in PAGES:
                timing = http.latency(host, port, page.url(subjects), cookies[page.role], options["requests"])
                rows[page.name].update(p50=timing.p50_ms, p95=timing.p95_ms)
            self._progress(
                f"Throughput (wrk, 4 connections, {options['rounds']} x {options['seconds']} s a page, interleaved "
                "with the bare view) ..."
            )
            for page in PAGES:
                result = http.interleaved(
                    base,
                    page.url(subjects),
                    BARE_PATH,
                    cookies[page.role],
                    seconds=options["seconds"],
                    rounds=options["rounds"],
                )
                rows[page.name].update(
                    rps=result.page, bare_rps=result.bare, ratio_bare=result.ratio, errors=result.errors
                )
        bare_rates = [row["bare_rps"] for row in rows.values()]
        rows[BARE.name] = {
            "role": BARE.role,
            "p50": bare_latency.p50_ms,
            "p95": bare_latency.p95_ms,
            "rps": sum(bare_rates) / len(bare_rates),
        }
        admin = rows[ADMIN_PAGE.name]["ratio_bare"]
        for row in rows.values():
            if "ratio_bare" in row:
                row["ratio_admin"] = row["ratio_bare"] / admin if admin else 0.0

    def _context(self) -> dict:
        with connection.cursor() as cursor:
            cursor.execute("SELECT (SELECT COUNT(*) FROM referrals_referral), (SELECT COUNT(*) FROM casework_casenote)")
            referrals, notes = cursor.fetchone()
        load = os.getloadavg() if hasattr(os, "getloadavg") else (0, 0, 0)
        return {
            "database": settings.DATABASES["default"]["NAME"],
            "referrals": referrals,
            "notes": notes,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, load {load[0]:.1f} at the start",
            "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE"),
        }

    # --- the table ---------------------------------------------------------------------------------------
    def _print(self, rows: dict, context: dict, options: dict) -> None:
        self.stdout.write("")
        self.stdout.write(
            f"{context['referrals']:,} referrals, {context['notes']:,} notes ({context['database']}); {context['machine']}; "
            + ("" if options["queries_only"] else "gunicorn 2 workers, DEBUG off; ")
            + f"CONN_MAX_AGE={context['conn_max_age']}; queries small = {SMALL_REFERRALS} referrals"
        )
        header = ["page", "role", "queries small/large", "p50 ms", "p95 ms", "req/s", "/bare", "/admin", "verdict"]
        lines = [header]
        for name, row in rows.items():
            lines.append(
                [
                    name,
                    row["role"],
                    f"{row['small']}/{row['large']}" if "small" in row else "-",
                    _number(row.get("p50")),
                    _number(row.get("p95")),
                    _number(row.get("rps")),
                    _ratio(row.get("ratio_bare")),
                    _ratio(row.get("ratio_admin")),
                    verdict(name, row),
                ]
            )
        widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
        for number, line in enumerate(lines):
            self.stdout.write(
                "| " + " | ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)) + " |"
            )
            if number == 0:
                self.stdout.write("| " + " | ".join("-" * width for width in widths) + " |")
        bare = [row["bare_rps"] for row in rows.values() if "bare_rps" in row]
        if bare:
            self.stdout.write(
                f"bare view: {sum(bare) / len(bare):.0f} req/s on average over the runs ({min(bare):.0f}-{max(bare):.0f})"
            )


def verdict(name: str, row: dict) -> str:
    """What misses its target, or "ok"."""
    if name == BARE.name:
        return ""
    misses = []
    if row["small"] != row["large"]:
        misses.append("queries grow")
    if row["large"] > TARGET_QUERIES:
        misses.append(f"> {TARGET_QUERIES} queries")
    if "p95" in row:
        if row["p95"] > TARGET_P95_MS:
            misses.append(f"p95 > {TARGET_P95_MS} ms")
        if row["ratio_bare"] < TARGET_BARE_RATIO:
            misses.append(f"< {TARGET_BARE_RATIO} bare")
        if name != ADMIN_PAGE.name and row["ratio_admin"] < TARGET_ADMIN_RATIO:
            misses.append(f"< {TARGET_ADMIN_RATIO:g}x admin")
        if row["errors"]:
            misses.append(f"{row['errors']} errors")
    return "; ".join(misses) or "ok"


def _number(value) -> str:
    return "-" if value is None else f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _ratio(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def _sibling(url: str, suffix: str) -> str:
    """The URL of the database next to `url` whose name has `suffix`."""
    head, _, name = url.rpartition("/")
    name, query = (name.split("?", 1) + [""])[:2]
    return f"{head}/{name}{suffix}" + (f"?{query}" if query else "")
