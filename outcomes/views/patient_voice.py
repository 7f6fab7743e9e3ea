"""The patient's own voice. Staff: record the patient's agreement and send them their link (advisors of the
case's advice service). The patient: their link's page, with no sign-in, showing nothing but their first
name, in English or Welsh, working without JavaScript."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from casework.models import Case
from casework.permissions import get_case_for_user
from hjp.accounts.roles import ADVICE_WORKERS, role_required
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.formpage import submit_form
from hjp.core.forms import error_summary
from outcomes import patient_voice
from outcomes.forms import PatientAnswersForm, PatientLinkForm, PatientVoiceAgreementForm
from outcomes.selectors.patient_voice import patient_voice_for_case


def _case(request, case_pk):
    return get_case_for_user(request.user, case_pk, queryset=Case.objects.select_related("referral__consent"))


def _staff_page(request, case, *, bound=None, status=200):
    forms_ = {
        "agreement": PatientVoiceAgreementForm(prefix="agreement"),
        "send": PatientLinkForm(prefix="send"),
    }
    forms_.update(bound or {})
    audit_record(actor=request.user, action=AuditEvent.Action.VIEW, obj=case, summary="patient's own link")
    return render(
        request,
        "outcomes/patient_voice.html",
        {
            "case": case,
            "withdrawn": case.referral.consent.is_withdrawn,
            "forms": forms_,
            "errors": error_summary(*(bound or {}).values()),
            "link_days": settings.PATIENT_LINK_DAYS,
            **patient_voice_for_case(case),
        },
        status=status,
    )


@role_required(ADVICE_WORKERS, message="No casework here.")
def case_patient_voice(request, case_pk):
    return _staff_page(request, _case(request, case_pk))


@require_POST
@role_required(ADVICE_WORKERS, message="No casework here.")
def patient_voice_agreement(request, case_pk):
    case = _case(request, case_pk)
    form = PatientVoiceAgreementForm(request.POST, prefix="agreement")
    submission = submit_form(
        request,
        form,
        lambda data: patient_voice.patient_voice_agreement_record(case=case, actor=request.user, agreed=data["agreed"]),
    )
    if submission.done:
        messages.success(request, "The patient's answer is recorded.")
        return redirect("outcomes:patient_voice", case_pk=case.pk)
    return _staff_page(request, case, bound={"agreement": form}, status=400)


@require_POST
@role_required(ADVICE_WORKERS, message="No casework here.")
def patient_link_send(request, case_pk):
    case = _case(request, case_pk)
    form = PatientLinkForm(request.POST, prefix="send")
    submission = submit_form(
        request,
        form,
        lambda data: patient_voice.patient_link_send(
            case=case,
            actor=request.user,
            moment=data["moment"],
            channel=data["channel"],
            submission_token=form.submission_token,
        ),
    )
    if submission.saved:
        messages.success(request, "The link is on its way to the patient.")
    if submission.done:
        return redirect("outcomes:patient_voice", case_pk=case.pk)
    return _staff_page(request, case, bound={"send": form}, status=400)


# --- the patient's pages ----------------------------------------------------------------------------------

LANGUAGE_CHOICES = {"en-gb": "English", "cy": "Cymraeg"}


def _language(request, opened) -> str:
    """The language asked for on the page (the switch, or the form's hidden field), else the link's own."""
    asked = request.POST.get("lang") or request.GET.get("lang")
    if asked in LANGUAGE_CHOICES:
        return asked
    return opened.link.language if opened.link is not None else patient_voice.ENGLISH


def _patient_render(request, template, context, *, language, status=200):
    with translation.override(language):
        response = render(
            request,
            template,
            {**context, "language": language, "languages": LANGUAGE_CHOICES.items()},
            status=status,
        )
    response["Content-Language"] = language
    return response


REFUSED_STATUS = {
    patient_voice.LinkState.UNKNOWN: 404,
    patient_voice.LinkState.USED: 410,
    patient_voice.LinkState.EXPIRED: 410,
    patient_voice.LinkState.WITHDRAWN: 410,
}


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def patient_link(request, token):
    opened = patient_voice.patient_link_open(token=token)
    language = _language(request, opened)
    if not opened.is_open:
        return _patient_render(
            request,
            "outcomes/patient/refused.html",
            {"state": opened.state},
            language=language,
            status=REFUSED_STATUS[opened.state],
        )
    with translation.override(language):
        form = PatientAnswersForm(request.POST or None, asks_experience=opened.asks_experience)
        if request.method == "POST" and form.is_valid():
            try:
                patient_voice.patient_link_submit(
                    token=token,
                    items=form.items,
                    easy_to_get_help=form.cleaned_data.get("easy_to_get_help", ""),
                    made_a_difference=form.cleaned_data.get("made_a_difference", ""),
                    comments=form.cleaned_data.get("comments", ""),
                )
            except patient_voice.LinkRefused as refused:
                return _patient_render(
                    request,
                    "outcomes/patient/refused.html",
                    {"state": refused.state},
                    language=language,
                    status=REFUSED_STATUS[refused.state],
                )
            return redirect(reverse("patient_link_thanks") + f"?lang={language}")
        errors = [
            {"id": f"id_{name}_0" if name != "comments" else "id_comments", "message": error}
            for name, field_errors in form.errors.items()
            for error in field_errors
        ]
    return _patient_render(
        request,
        "outcomes/patient/answers.html",
        {"form": form, "errors": errors, "first_name": opened.first_name, "moment": opened.link.moment},
        language=language,
        status=400 if form.is_bound else 200,
    )


@login_not_required
def patient_link_thanks(request):
    language = request.GET.get("lang") if request.GET.get("lang") in LANGUAGE_CHOICES else patient_voice.ENGLISH
    return _patient_render(request, "outcomes/patient/thanks.html", {}, language=language)
