from django.db import migrations
from django.db.models import OuterRef, Subquery


def settle_what_closed_cases_left_open(apps, schema_editor):
    """Deadlines already done were done by the advisor. Cases already closed settle what they left open, as
    closing does from now on: their open deadlines and issues are closed with the case, at its closing time."""
    Case = apps.get_model("casework", "Case")
    CaseIssue = apps.get_model("casework", "CaseIssue")
    Deadline = apps.get_model("casework", "Deadline")
    Deadline.objects.filter(done_at__isnull=False).update(settlement="done")
    closed = Case.objects.filter(state="closed")
    of_case = Case.objects.filter(pk=OuterRef("case_id"))
    Deadline.objects.filter(case__in=closed, done_at__isnull=True).update(
        settlement="closed_with_case",
        done_at=Subquery(of_case.values("closed_at")[:1]),
        done_by_id=Subquery(of_case.values("advisor_id")[:1]),
    )
    CaseIssue.objects.filter(case__in=closed, status="open").update(
        status="closed", resolved_at=Subquery(of_case.values("closed_at")[:1])
    )


def reopen_what_was_closed_with_the_case(apps, schema_editor):
    """Back to before settling: an issue was open or resolved, a deadline done or not."""
    CaseIssue = apps.get_model("casework", "CaseIssue")
    Deadline = apps.get_model("casework", "Deadline")
    CaseIssue.objects.filter(status="closed").update(status="open", resolved_at=None)
    Deadline.objects.filter(settlement="closed_with_case").update(done_at=None, done_by_id=None)
    Deadline.objects.exclude(settlement="").update(settlement="")


class Migration(migrations.Migration):

    dependencies = [
        ('casework', '0002_settle_deadlines_and_issues_on_close'),
    ]

    operations = [
        migrations.RunPython(settle_what_closed_cases_left_open, reopen_what_was_closed_with_the_case),
    ]
