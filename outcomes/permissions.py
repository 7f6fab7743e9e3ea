"""Managers see their partnerships' dashboards; funders and managers the funder report. Aggregates only."""

from hjp.accounts.models import Partnership
from hjp.accounts.roles import roles_for
from hjp.core.lookups import get_visible_or_404


def dashboard_partnerships(user):
    return Partnership.objects.filter(pk__in=roles_for(user).manager_partnership_ids).order_by("name")


def report_partnerships(user):
    roles = roles_for(user)
    return Partnership.objects.filter(pk__in=roles.manager_partnership_ids | roles.funder_partnership_ids).order_by(
        "name"
    )


def get_partnership_for(user, pk, *, funder_report: bool = False) -> Partnership:
    qs = report_partnerships(user) if funder_report else dashboard_partnerships(user)
    return get_visible_or_404(qs, pk, "No such partnership.")
