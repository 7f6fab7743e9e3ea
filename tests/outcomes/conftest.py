import pytest
from django.utils import timezone

from casework import services as casework_services
from referrals.models import ProblemCategory, ProblemSubCategory


@pytest.fixture
def open_case(referral, advisor_user):
    """An accepted referral with its first contact made: a case in progress with one benefits issue."""
    case = casework_services.referral_accept(referral=referral, actor=advisor_user)
    casework_services.case_note_add(
        case=case, actor=advisor_user, kind="call", text="First call.", occurred_at=timezone.now(), first_contact=True
    )
    case.refresh_from_db()
    if not case.issues.exists():
        casework_services.case_issue_add(
            case=case,
            actor=advisor_user,
            category=ProblemCategory.objects.get(code="benefits"),
            sub_category=ProblemSubCategory.objects.get(code="pip"),
        )
    return case
