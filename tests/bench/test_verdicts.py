"""make bench's verdicts against issue 12's targets, and its arithmetic (no database, no server)."""

from bench.http import percentile
from bench.management.commands.bench import _sibling, verdict


def _row(**overrides):
    row = {"small": 9, "large": 9, "p95": 80.0, "ratio_bare": 0.6, "ratio_admin": 2.5, "errors": 0}
    return {**row, **overrides}


def test_a_page_that_meets_every_target_is_ok():
    assert verdict("triage", _row()) == "ok"


def test_each_missed_target_is_named():
    row = _row(small=9, large=12, p95=150.0, ratio_bare=0.3, ratio_admin=1.5, errors=3)
    assert verdict("triage", row) == "queries grow; > 10 queries; p95 > 100 ms; < 0.5 bare; < 2x admin; 3 errors"


def test_the_admin_changelist_is_not_compared_with_itself_and_queries_alone_are_judged_without_timings():
    assert verdict("admin: Referral changelist", _row(ratio_admin=1.0)) == "ok"
    assert verdict("triage", {"small": 11, "large": 11}) == "> 10 queries"


def test_percentiles_are_nearest_rank():
    samples = [float(n) for n in range(1, 21)]
    assert (percentile(samples, 0.5), percentile(samples, 0.95)) == (10.0, 19.0)


def test_the_small_database_sits_beside_the_large_one():
    assert _sibling("postgres://u@h:5432/hjp_bench", "_small") == "postgres://u@h:5432/hjp_bench_small"
    assert _sibling("postgres://u@h/db?sslmode=require", "_small") == "postgres://u@h/db_small?sslmode=require"
