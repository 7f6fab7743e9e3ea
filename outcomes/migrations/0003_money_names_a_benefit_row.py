"""A money outcome's benefit was a code from casework's sub-category dict; it is now a row of the admin-kept
table referrals.ProblemSubCategory, limited to the benefits category's (seeded by referrals 0008, same codes)."""

import django.db.models.deletion
from django.db import migrations, models


def codes_to_rows(apps, schema_editor):
    FinancialOutcome = apps.get_model("outcomes", "FinancialOutcome")
    ProblemSubCategory = apps.get_model("referrals", "ProblemSubCategory")
    rows = {sub.code: sub for sub in ProblemSubCategory.objects.filter(category__code="benefits")}
    for outcome in FinancialOutcome.objects.exclude(benefit=""):
        # 0002 left only benefits' codes here; one the seed could not place (its category recoded) names none.
        outcome.benefit_row = rows.get(outcome.benefit)
        outcome.save(update_fields=["benefit_row"])


def rows_to_codes(apps, schema_editor):
    FinancialOutcome = apps.get_model("outcomes", "FinancialOutcome")
    for outcome in FinancialOutcome.objects.filter(benefit_row__isnull=False).select_related("benefit_row"):
        outcome.benefit = outcome.benefit_row.code
        outcome.save(update_fields=["benefit"])


class Migration(migrations.Migration):

    dependencies = [
        ("outcomes", "0002_money_outcome_names_a_benefit"),
        ("referrals", "0008_problem_sub_categories"),
    ]

    operations = [
        migrations.AddField(
            model_name="financialoutcome",
            name="benefit_row",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                to="referrals.problemsubcategory",
            ),
        ),
        migrations.RunPython(codes_to_rows, rows_to_codes),
        migrations.RemoveField(model_name="financialoutcome", name="benefit"),
        migrations.RenameField(model_name="financialoutcome", old_name="benefit_row", new_name="benefit"),
        migrations.AlterField(
            model_name="financialoutcome",
            name="benefit",
            field=models.ForeignKey(
                blank=True, limit_choices_to={"category__code": "benefits"}, null=True,
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="referrals.problemsubcategory",
            ),
        ),
    ]
