"""`Case.next_deadline` (what the caseload sorts and filters by) is always the due date of the case's earliest
open deadline, after every kind of change: a known deadline carried from the referral, a deadline added, one
done, the case closed, reopened, stopped on a withdrawal of consent, or anonymised after the retention period."""

from datetime import date, timedelta
from importlib import import_module

import pytest
from django.apps import apps as global_apps
from django.db import transaction
from django.utils import timezone

from casework import services
from casework.models import Case, ClosureReason, Deadline
from referrals.models import KnownDeadlineKind
from referrals.services.erasure import referrals_erase
from tests import factories

pytestmark = pytest.mark.django_db


def _computed(case: Case) -> date | None:
    due = Deadline.objects.filter(case=case, done_at__isnull=True).order_by("due_date").values_list("due_date")
    return due[0][0] if due else None


def _stored(case: Case) -> date | None:
    return Case.objects.values_list("next_deadline", flat=True).get(pk=case.pk)


def _assert_kept(case: Case) -> None:
    assert _stored(case) == _computed(case)


def _add(case, actor, days: int) -> Deadline:
    return services.deadline_add(
        case=case, actor=actor, kind=Deadline.Kind.TASK, title="Task", due_date=timezone.localdate() + timedelta(days)
    )


def _version(case) -> int:
    return Case.objects.values_list("version", flat=True).get(pk=case.pk)


def test_a_known_deadline_carried_from_the_referral_is_the_cases_next(advisor_user, health_org, partnership):
    referral = factories.ReferralFactory(
        referring_organisation=health_org,
        partnership=partnership,
        known_deadline=timezone.localdate() + timedelta(days=9),
        known_deadline_kind=KnownDeadlineKind.DUE,
    )
    case = services.referral_accept(referral=referral, actor=advisor_user)
    assert _stored(case) == timezone.localdate() + timedelta(days=9)
    _assert_kept(case)


def test_adding_and_doing_deadlines_keeps_the_next_one(case_in_progress, advisor_user):
    case = case_in_progress
    assert _stored(case) is None
    later = _add(case, advisor_user, 10)
    _assert_kept(case)
    sooner = _add(case, advisor_user, 2)
    assert _stored(case) == sooner.due_date
    _add(case, advisor_user, 30)
    _assert_kept(case)
    services.deadline_complete(deadline=sooner, actor=advisor_user, version=_version(case))
    assert _stored(case) == later.due_date
    overdue = _add(case, advisor_user, -4)
    assert _stored(case) == overdue.due_date
    for deadline in Deadline.objects.filter(case=case, done_at__isnull=True):
        services.deadline_complete(deadline=deadline, actor=advisor_user, version=_version(case))
        _assert_kept(case)
    assert _stored(case) is None


def test_closing_and_reopening_keep_the_next_deadline(case_in_progress, advisor_user, supervisor_user):
    case = case_in_progress
    _add(case, advisor_user, 5)
    closed = services.case_close(
        case=case, actor=advisor_user, version=_version(case), closure_reason=ClosureReason.ADVICE_GIVEN
    )
    assert _stored(case) is None
    _assert_kept(case)
    services.case_reopen(case=closed, actor=supervisor_user, version=_version(case), reason="New letter")
    _assert_kept(case)  # its deadlines stay settled: none is next until one is added
    added = _add(case, advisor_user, 3)
    assert _stored(case) == added.due_date


def test_a_withdrawal_of_consent_settles_the_next_deadline(case_in_progress, advisor_user):
    _add(case_in_progress, advisor_user, 5)
    services.case_stop_for_consent_withdrawal(case=case_in_progress, actor=advisor_user)
    assert _stored(case_in_progress) is None
    _assert_kept(case_in_progress)


def test_anonymising_after_the_retention_period_settles_the_next_deadline(case_in_progress, advisor_user, referral):
    _add(case_in_progress, advisor_user, 5)
    with transaction.atomic():
        referrals_erase(referral_ids=[referral.pk], reason="retention")
    _assert_kept(case_in_progress)


def test_the_migration_fills_the_next_deadline_of_existing_cases(case_in_progress, advisor_user):
    """What migration 0007 does for the cases there were before the column: the same value as the services."""
    first = _add(case_in_progress, advisor_user, 6)
    _add(case_in_progress, advisor_user, 12)
    bare = factories.CaseFactory(referral=factories.ReferralFactory(status="in_progress"))
    Case.objects.update(next_deadline=date(2000, 1, 1))
    fill = import_module("casework.migrations.0007_case_next_deadline_and_list_indexes").fill_next_deadline
    fill(global_apps, None)
    assert _stored(case_in_progress) == first.due_date and _stored(bare) is None
