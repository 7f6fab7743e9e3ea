from django.db import migrations, models
from django.db.models import Exists, OuterRef


def classify_known_deadlines(apps, schema_editor):
    """Before the form asked, the referrer's note is all there is. A date is read as a benefit decision letter
    (the reconsideration then falls due a month later) only when the note says so ("PIP decision letter");
    anything else is read as the deadline itself, the earlier and so the safer of the two readings."""
    Referral = apps.get_model("referrals", "Referral")
    benefits = Referral.categories.through.objects.filter(referral=OuterRef("pk"), problemcategory__code="benefits")
    dated = Referral.objects.filter(known_deadline__isnull=False)
    dated.filter(Exists(benefits), known_deadline_note__icontains="decision letter").update(
        known_deadline_kind="decision_letter"
    )
    dated.filter(known_deadline_kind="").update(known_deadline_kind="due")


class Migration(migrations.Migration):

    dependencies = [
        ("referrals", "0004_status_change_decline_reason"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="known_deadline_kind",
            field=models.CharField(
                blank=True,
                choices=[
                    ("decision_letter", "The date of a benefit decision letter"),
                    ("due", "The date something must be done by"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(classify_known_deadlines, migrations.RunPython.noop),
    ]
