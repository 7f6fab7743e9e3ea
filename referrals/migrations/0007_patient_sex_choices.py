from django.db import migrations, models

# Free text typed before "sex" became a choice, mapped where the meaning is unambiguous (compared in lower
# case, without surrounding spaces or full stops). Words for "not known" become blank, the same as not asked.
# Anything else (for example a gender identity typed into this box) is left as it was, for a person to
# review: guessing would put a false figure into the equity statistics.
SEX_FROM_TEXT = {
    **dict.fromkeys(("f", "female", "woman", "w", "girl"), "female"),
    **dict.fromkeys(("m", "male", "man", "boy"), "male"),
    **dict.fromkeys(("intersex", "other", "another", "not listed"), "another"),
    **dict.fromkeys(
        ("prefer not to say", "prefers not to say", "declined", "declined to say", "not stated"), "prefer_not_to_say"
    ),
    **dict.fromkeys(("unknown", "not known", "n/a", "na", "-", "?"), ""),
}
TEXT_FROM_SEX = {"female": "Female", "male": "Male", "another": "Another", "prefer_not_to_say": "Prefers not to say"}


def sex_to_choices(apps, schema_editor):
    Patient = apps.get_model("referrals", "Patient")
    for patient in Patient.objects.exclude(sex="").only("pk", "sex").iterator():
        key = patient.sex.strip().strip(".").lower()
        if key in SEX_FROM_TEXT:
            Patient.objects.filter(pk=patient.pk).update(sex=SEX_FROM_TEXT[key])


def choices_to_text(apps, schema_editor):
    Patient = apps.get_model("referrals", "Patient")
    for value, text in TEXT_FROM_SEX.items():
        Patient.objects.filter(sex=value).update(sex=text)


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0006_referral_version"),
    ]

    operations = [
        migrations.RunPython(sex_to_choices, choices_to_text),
        migrations.AlterField(
            model_name="patient",
            name="sex",
            field=models.CharField(
                blank=True,
                choices=[
                    ("female", "Female"),
                    ("male", "Male"),
                    ("another", "Another, for example intersex, or not listed"),
                    ("prefer_not_to_say", "Prefers not to say"),
                ],
                max_length=30,
            ),
        ),
    ]
