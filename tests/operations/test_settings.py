"""Production's operations defaults: JSON logs, no /metrics without a token, and settings that refuse to start
when an operations variable is wrong rather than run half-configured."""

import pytest

from tests.core.test_production import SETTINGS, _environment, _manage


def _production(**environment) -> str:
    script = "from django.conf import settings as s; print(s.LOG_FORMAT, repr(s.METRICS_TOKEN), s.EVIDENCE_STORAGE)"
    result = _manage("shell", "--no-imports", "-c", script, env=_environment({**SETTINGS, **environment}))
    assert result.returncode == 0, result.stderr
    return result.stdout.split("\n")[-2]


def test_production_logs_json_and_has_no_metrics_unless_a_token_is_set():
    assert _production() == "json '' filesystem"
    assert _production(LOG_FORMAT="text") == "text '' filesystem"


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"METRICS_TOKEN": "too-short"}, "METRICS_TOKEN must be at least 32 characters"),
        ({"LOG_FORMAT": "xml"}, 'LOG_FORMAT must be "text" or "json"'),
        ({"EVIDENCE_STORAGE": "s3"}, "EVIDENCE_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME"),
        ({"EVIDENCE_STORAGE": "ftp"}, 'EVIDENCE_STORAGE must be "filesystem" or "s3"'),
    ],
)
def test_a_wrong_operations_setting_stops_the_start_with_a_clear_message(environment, message):
    result = _manage("check", env=_environment({**SETTINGS, **environment}))
    assert result.returncode != 0 and message in result.stderr
