import pytest

from casework import services
from tests import factories


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Uploaded evidence goes to a throwaway directory."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private_media"
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def case(referral, advisor_user):
    """A case opened the way advisors open them: by accepting a submitted referral."""
    return services.referral_accept(referral=referral, actor=advisor_user)


@pytest.fixture
def case_in_progress(case, advisor_user):
    from django.utils import timezone

    services.case_note_add(
        case=case, actor=advisor_user, kind="call", text="First call.", occurred_at=timezone.now(), first_contact=True
    )
    case.refresh_from_db()
    return case


@pytest.fixture
def provider(advice_org):
    return factories.AdviceProviderFactory(advice_organisation=advice_org, name="City Law Centre")


@pytest.fixture
def other_advisor(db):
    """An advisor of a different advice organisation."""
    return factories.advisor(factories.AdviceOrganisationFactory())
