"""Reads for the account pages: only what the acting user may see."""

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Prefetch, Q
from django.http import Http404

from hjp.accounts.factors import KINDS, PRIMARY_KINDS
from hjp.accounts.models import Membership, User
from hjp.accounts.permissions import ADVICE_ROLES, can_reset_second_factors
from hjp.accounts.roles import roles_for


def devices_by_kind(*, user) -> list[tuple]:
    """The user's confirmed devices, kind by kind: [(kind, [device, ...]), ...] in the order of KINDS."""
    return [(kind, list(kind.devices_for(user))) for kind in KINDS]


def organisation_people(*, by):
    """The advisors and supervisors of the advice organisations `by` supervises (not `by`, not admins), with
    their memberships there and whether they hold a second factor: the people whose second factors `by` may
    reset."""
    org_ids = roles_for(by).supervisor_org_ids
    memberships = Membership.objects.filter(organisation_id__in=org_ids, role__in=ADVICE_ROLES).select_related(
        "organisation"
    )
    return (
        User.objects.filter(memberships__in=memberships, is_staff=False)
        .exclude(pk=by.pk)
        .distinct()
        .annotate(has_second_factor=_holds_a_primary_device())
        .prefetch_related(Prefetch("memberships", queryset=memberships, to_attr="advice_memberships"))
        .order_by("full_name", "email")
    )


def get_user_to_reset_or_404(*, by, pk) -> User:
    """The user whose second factors `by` may reset; 404 for anyone else, as for nobody."""
    user = User.objects.filter(pk=pk).first()
    if user is None or not can_reset_second_factors(by=by, user=user):
        raise Http404("No such page.")
    return user


def _holds_a_primary_device():
    held = Q()
    for kind in PRIMARY_KINDS:
        held |= Q(Exists(kind.model.objects.filter(user=OuterRef("pk"), confirmed=True)))
    return ExpressionWrapper(held, output_field=BooleanField())
