"""Managers' dashboard: aggregates for one partnership and period, never patient details."""

from django.http import Http404
from django.shortcuts import render

from hjp.accounts.roles import MANAGERS, role_required
from hjp.core.db_routers import reads_from_replica
from hjp.core.forms import error_summary
from outcomes import permissions
from outcomes.forms import PeriodForm
from outcomes.selectors.dashboard import chart_data, partnership_summary
from outcomes.selectors.figures import ONWARD_RESULTS


def choose_partnership(request, partnerships, *, funder_report=False):
    """The partnerships the user may report on, and the one chosen (`?partnership=`, else the first)."""
    partnerships = list(partnerships)
    if not partnerships:
        raise Http404("You have no partnership to report on.")
    chosen = request.GET.get("partnership")
    if chosen:
        return partnerships, permissions.get_partnership_for(request.user, chosen, funder_report=funder_report)
    return partnerships, partnerships[0]


def summary_context(request, partnerships, partnership, *, current: bool = False) -> dict:
    """The fixed period asked for (or the default, with the form's errors) and its figures; `current` offers
    the periods under way too (outcomes.forms.PeriodForm)."""
    form = PeriodForm(request.GET, partnership=partnership, current=current)
    period = form.dates
    summary = partnership_summary(partnership=partnership, period=period)
    return {
        "partnerships": partnerships,
        "partnership": partnership,
        "form": form,
        "errors": error_summary(form),
        "period": period,
        "fixed_period": form.fixed_period,
        "summary": summary,
    }


@role_required(MANAGERS, message="You have no partnership to report on.")
@reads_from_replica  # after the role gate, which reads the memberships from the primary
def dashboard(request):
    partnerships, partnership = choose_partnership(request, permissions.dashboard_partnerships(request.user))
    context = summary_context(request, partnerships, partnership, current=True)
    context["chart_data"] = chart_data(context["summary"])
    context["onward_results"] = [label for _, label in ONWARD_RESULTS]
    return render(request, "outcomes/dashboard.html", context)
