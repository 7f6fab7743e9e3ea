"""A money outcome's benefit was a code from casework's sub-category dict; it is now a row of the admin-kept
table referrals.ProblemSubCategory, limited to the benefits category's (seeded by referrals 0008, same codes)."""

import django.db.models.deletion
from django.db import migrations, models


def codes_to_rows(apps, schema_editor):
    """Each benefit code becomes its row. 0002 left only benefits' codes; casework 0005 (run first) created a row
    for any code the seed could not place. Should one still have no row, the migration stops and says so rather
    than forget which benefit the money was."""
    FinancialOutcome = apps.get_model("outcomes", "FinancialOutcome")
    ProblemSubCategory = apps.get_model("referrals", "ProblemSubCategory")
    rows = {sub.code: sub for sub in ProblemSubCategory.objects.all()}
    for outcome in FinancialOutcome.objects.exclude(benefit=""):
        row = rows.get(outcome.benefit)
        if row is None:
            raise RuntimeError(
                f"Money outcome {outcome.pk} names the benefit {outcome.benefit!r}, which has no row in "
                "referrals.ProblemSubCategory: add it (under the benefits category) and migrate again."
            )
        outcome.benefit_row = row
        outcome.save(update_fields=["benefit_row"])
    if schema_editor.connection.vendor == "postgresql":
        # Check the new foreign keys now, not at commit: the table is altered later in this migration.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def rows_to_codes(apps, schema_editor):
    FinancialOutcome = apps.get_model("outcomes", "FinancialOutcome")
    for outcome in FinancialOutcome.objects.filter(benefit_row__isnull=False).select_related("benefit_row"):
        outcome.benefit = outcome.benefit_row.code
        outcome.save(update_fields=["benefit"])


class Migration(migrations.Migration):

    dependencies = [
        ("outcomes", "0002_money_outcome_names_a_benefit"),
        ("referrals", "0008_problem_sub_categories"),
        # Its rows for codes the seed could not place come first.
        ("casework", "0005_issue_sub_category_is_a_table_row"),
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
