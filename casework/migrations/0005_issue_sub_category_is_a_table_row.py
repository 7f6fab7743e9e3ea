"""A case issue's sub-category was a code from a dict in casework.models; it is now a row of the admin-kept
table referrals.ProblemSubCategory (seeded by referrals 0008 with the same codes)."""

import django.db.models.deletion
from django.db import migrations, models

# The names the codes had, for a code the seed did not create (its category was recoded by an admin).
NAMES = {
    "universal_credit": "Universal Credit", "pip": "Personal Independence Payment (PIP)",
    "esa": "Employment and Support Allowance (ESA)", "attendance_allowance": "Attendance Allowance",
    "carers_allowance": "Carer's Allowance", "pension_credit": "Pension Credit",
    "council_tax_reduction": "Council Tax Reduction", "dla": "Disability Living Allowance",
    "housing_benefit": "Housing Benefit", "other_benefit": "Other benefit", "rent_arrears": "Rent arrears",
    "council_tax_arrears": "Council tax arrears", "energy_debt": "Energy or water debt",
    "consumer_credit": "Credit cards, loans and catalogues", "benefit_overpayment": "Benefit overpayment",
    "other_debt": "Other debt", "possession": "Possession or eviction", "homelessness": "Homelessness",
    "disrepair": "Disrepair", "other_housing": "Other housing", "sickness_absence": "Sickness absence and sick pay",
    "dismissal": "Dismissal", "adjustments": "Reasonable adjustments", "other_employment": "Other employment",
    "special_needs": "Special educational needs", "exclusion": "Exclusion", "other_education": "Other education",
    "care_assessment": "Care needs assessment", "care_charges": "Care charges",
    "other_community_care": "Other community care", "leave_to_remain": "Leave to remain",
    "eu_settlement": "EU Settlement Scheme", "nhs_charges": "NHS charges", "other_immigration": "Other immigration",
}


def check_foreign_keys_now(schema_editor):
    """PostgreSQL checks foreign keys at commit; a table altered later in the same migration would then fail
    with "pending trigger events". Checking them now lets the rest of the migration run."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def codes_to_rows(apps, schema_editor):
    CaseIssue = apps.get_model("casework", "CaseIssue")
    ProblemSubCategory = apps.get_model("referrals", "ProblemSubCategory")
    rows = {sub.code: sub for sub in ProblemSubCategory.objects.all()}
    for issue in CaseIssue.objects.exclude(sub_category="").select_related("category"):
        row = rows.get(issue.sub_category)
        if row is None:
            row = rows[issue.sub_category] = ProblemSubCategory.objects.create(
                category=issue.category, code=issue.sub_category,
                name=NAMES.get(issue.sub_category, issue.sub_category.replace("_", " ").capitalize()),
            )
        issue.sub_category_row = row
        issue.save(update_fields=["sub_category_row"])
    check_foreign_keys_now(schema_editor)


def rows_to_codes(apps, schema_editor):
    CaseIssue = apps.get_model("casework", "CaseIssue")
    for issue in CaseIssue.objects.filter(sub_category_row__isnull=False).select_related("sub_category_row"):
        issue.sub_category = issue.sub_category_row.code
        issue.save(update_fields=["sub_category"])
    check_foreign_keys_now(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("casework", "0004_settled_deadlines_and_issues_say_how"),
        ("referrals", "0008_problem_sub_categories"),
    ]

    operations = [
        migrations.AddField(
            model_name="caseissue",
            name="sub_category_row",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                to="referrals.problemsubcategory",
            ),
        ),
        migrations.RunPython(codes_to_rows, rows_to_codes),
        migrations.RemoveField(model_name="caseissue", name="sub_category"),
        migrations.RenameField(model_name="caseissue", old_name="sub_category_row", new_name="sub_category"),
        migrations.AlterField(
            model_name="caseissue",
            name="sub_category",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="case_issues",
                to="referrals.problemsubcategory",
            ),
        ),
    ]
