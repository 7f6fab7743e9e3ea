"""The one-time form token (hjp.core.submissions): recorded with what it created, in the creating
transaction; freed again when that transaction fails; never usable by another user; purged after a day."""

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from casework import services as casework_services
from hjp.core.errors import DomainError
from hjp.core.models import SubmissionToken
from hjp.core.submissions import AlreadySubmitted
from referrals.models import ProblemCategory
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(referral, advisor_user):
    return casework_services.referral_accept(referral=referral, actor=advisor_user)


def _add_issue(case, actor, token):
    return casework_services.case_issue_add(
        case=case, actor=actor, category=ProblemCategory.objects.get(code="debt"), submission_token=token
    )


def test_the_token_is_recorded_with_what_it_created(case, advisor_user):
    token = uuid.uuid4()
    issue = _add_issue(case, advisor_user, token)
    row = SubmissionToken.objects.get(token=token)
    assert (row.user, row.object_type.model_class(), row.object_id) == (advisor_user, type(issue), issue.pk)
    with pytest.raises(AlreadySubmitted) as raised:
        _add_issue(case, advisor_user, token)
    assert raised.value.created == issue


def test_a_refused_submission_leaves_its_token_free_to_send_again(case, advisor_user):
    token = uuid.uuid4()
    outsider = factories.advisor(factories.AdviceOrganisationFactory())
    with pytest.raises(DomainError):
        _add_issue(case, outsider, token)
    assert not SubmissionToken.objects.exists()
    assert _add_issue(case, advisor_user, token).pk


def test_another_users_token_is_refused_without_leading_to_what_it_made(case, advisor_user, supervisor_user):
    token = uuid.uuid4()
    _add_issue(case, advisor_user, token)
    with pytest.raises(DomainError) as raised:
        _add_issue(case, supervisor_user, token)
    assert not isinstance(raised.value, AlreadySubmitted)
    assert "reload the page" in raised.value.message


def test_tokens_older_than_a_day_are_purged(case, advisor_user):
    old, recent = uuid.uuid4(), uuid.uuid4()
    _add_issue(case, advisor_user, old)
    _add_issue(case, advisor_user, recent)
    SubmissionToken.objects.filter(token=old).update(created_at=timezone.now() - timedelta(days=1, minutes=1))
    out = StringIO()
    call_command("purge_submission_tokens", stdout=out)
    assert "Deleted 1 submission token(s)." in out.getvalue()
    assert list(SubmissionToken.objects.values_list("token", flat=True)) == [recent]


def test_the_daily_job_purges_old_tokens_too(case, advisor_user, settings):
    from hjp.core.tasks import purge_submission_tokens

    _add_issue(case, advisor_user, uuid.uuid4())
    SubmissionToken.objects.update(created_at=timezone.now() - timedelta(days=2))
    assert purge_submission_tokens() == 1 and not SubmissionToken.objects.exists()
    assert settings.CELERY_BEAT_SCHEDULE["purge-submission-tokens"]["task"] == "hjp.core.tasks.purge_submission_tokens"
