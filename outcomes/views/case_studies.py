"""Case studies: the advisor writes, the supervisor reviews, the manager includes. Thin: find what the user may
see (404 otherwise), ask outcomes.permissions what they may do, validate a form, call one service."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from casework.permissions import get_case_for_user
from casework.views.pages import audit_page, form_page, posted
from hjp.accounts.roles import ADVICE_WORKERS, MANAGERS, role_required
from hjp.audit.models import AuditEvent
from hjp.core.formpage import submit_form
from outcomes import case_studies as services
from outcomes import permissions
from outcomes.forms import (
    CaseStudyFieldsForm,
    CaseStudyForm,
    CaseStudyIncludeForm,
    CaseStudyReviewForm,
    CaseStudyWithdrawForm,
)
from outcomes.selectors.case_studies import case_study_list

READERS = ADVICE_WORKERS | MANAGERS
NOT_NOW = "You cannot do that with this story now."


def _detail_url(story) -> str:
    return reverse("outcomes:case_study", args=[story.pk])


def _story_for(request, pk, may):
    """The story the user may see (404 otherwise), and, when `may(user, story)` refuses the move now, the
    redirect back to the story with NOT_NOW (None when the move is allowed)."""
    story = permissions.get_case_study_for_user(request.user, pk)
    if may(request.user, story):
        return story, None
    messages.info(request, NOT_NOW)
    return story, redirect(_detail_url(story))


@role_required(READERS, message="No case studies here.")
def case_studies(request):
    stories = list(case_study_list(user=request.user))
    audit_page(request, AuditEvent.Action.LIST, object_type="outcomes.casestudy", summary="case studies")
    return render(request, "outcomes/case_studies.html", {"stories": stories})


@role_required(READERS, message="No case studies here.")
def case_study(request, pk):
    story = permissions.get_case_study_for_user(request.user, pk)
    user = request.user
    audit_page(request, AuditEvent.Action.VIEW, obj=story)
    return render(
        request,
        "outcomes/case_study.html",
        {
            "story": story,
            "advice_side": permissions.is_case_worker(user, story.case.referral.advice_organisation_id),
            "can_revise": permissions.can_revise_case_study(user, story),
            "can_review": permissions.can_review_case_study(user, story),
            "can_include": permissions.can_include_case_study(user, story),
            "can_withdraw": permissions.can_withdraw_case_study(user, story),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def case_study_add(request, case_pk):
    case = get_case_for_user(request.user, case_pk)
    if not permissions.can_write_case_study(request.user, case):
        messages.error(request, "The patient withdrew their consent, so no story of this case can be written.")
        return redirect("outcomes:case_outcomes", case_pk=case.pk)
    form = CaseStudyForm(posted(request))
    return form_page(
        request,
        form=form,
        title="Write a case study",
        intro="An anonymised story of this case, for funders. A supervisor reviews it before a manager can put it "
        "in the funder report. Write it only if the patient has agreed.",
        submit_label="Submit for review",
        perform=lambda data: services.case_study_write(
            case=case,
            actor=request.user,
            submission_token=form.submission_token,
            title=data["title"],
            story=data["story"],
            outcome_summary=data["outcome_summary"],
            agreement_method=data["agreement_method"],
        ),
        success="Case study submitted for review.",
        next_url=_detail_url,
        back_url=reverse("outcomes:case_outcomes", args=[case.pk]),
        audit_obj=case,
        heading_obj=case,
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def case_study_revise(request, pk):
    story, refused = _story_for(request, pk, permissions.can_revise_case_study)
    if refused:
        return refused
    form = CaseStudyFieldsForm(posted(request), instance=story)
    return form_page(
        request,
        form=form,
        title="Change the case study",
        intro=f"Returned by {story.reviewed_by}: {story.review_comment}",
        submit_label="Submit for review again",
        perform=lambda data: services.case_study_revise(
            story=story,
            actor=request.user,
            title=data["title"],
            story_text=data["story"],
            outcome_summary=data["outcome_summary"],
        ),
        success="Case study submitted for review again.",
        next_url=_detail_url(story),
        back_url=_detail_url(story),
        audit_obj=story,
        heading_obj=story.case,
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def case_study_review(request, pk):
    story, refused = _story_for(request, pk, permissions.can_review_case_study)
    if refused:
        return refused
    return form_page(
        request,
        form=CaseStudyReviewForm(posted(request)),
        title=f"Review the case study \u201c{story.title}\u201d",
        intro="Check it is anonymised and fair. Approved, a manager of the partnership can put it in the funder report.",
        submit_label="Save the review",
        perform=lambda data: services.case_study_review(
            story=story, actor=request.user, approve=data["decision"] == "approve", comment=data["comment"]
        ),
        success="Review saved.",
        next_url=_detail_url(story),
        back_url=_detail_url(story),
        audit_obj=story,
        heading_obj=story.case,
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def case_study_withdraw(request, pk):
    story, refused = _story_for(request, pk, permissions.can_withdraw_case_study)
    if refused:
        return refused
    return form_page(
        request,
        form=CaseStudyWithdrawForm(posted(request)),
        title="Withdraw the case study",
        intro="Its text is erased and it leaves the funder report. This cannot be undone.",
        submit_label="Withdraw the case study",
        danger=True,
        perform=lambda data: services.case_study_withdraw(story=story, actor=request.user),
        success="Case study withdrawn and its text erased.",
        next_url=reverse("outcomes:case_studies"),
        back_url=_detail_url(story),
        audit_obj=story,
        heading_obj=story.case,
    )


@require_POST
@role_required(MANAGERS, message="No case studies here.")
def case_study_include(request, pk):
    story = permissions.get_case_study_for_user(request.user, pk)
    if not permissions.can_include_case_study(request.user, story):
        raise Http404("No such case study.")
    form = CaseStudyIncludeForm(request.POST)
    submission = submit_form(
        request,
        form,
        lambda data: services.case_study_include(story=story, actor=request.user, include=data["include"] == "yes"),
    )
    if submission.saved:
        included = form.cleaned_data["include"] == "yes"
        messages.success(request, "Included in the funder report." if included else "Left out of the funder report.")
    else:
        for error in form.errors.values():
            messages.error(request, " ".join(error))
    return redirect(_detail_url(story))
