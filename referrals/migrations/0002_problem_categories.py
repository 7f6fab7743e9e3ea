from django.db import migrations

CATEGORIES = [
    ("benefits", "Benefits"),
    ("debt", "Debt"),
    ("housing", "Housing"),
    ("employment", "Employment"),
    ("education", "Education"),
    ("community_care", "Community care"),
    ("immigration", "Immigration"),
    ("other", "Other"),
]


def add_categories(apps, schema_editor):
    ProblemCategory = apps.get_model("referrals", "ProblemCategory")
    for position, (code, name) in enumerate(CATEGORIES):
        ProblemCategory.objects.update_or_create(code=code, defaults={"name": name, "position": position})


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_initial")]

    operations = [migrations.RunPython(add_categories, migrations.RunPython.noop)]
