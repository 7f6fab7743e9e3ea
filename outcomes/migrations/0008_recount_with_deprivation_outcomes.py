from django.db import migrations


def count_again_from_scratch(apps, schema_editor):
    # The running totals gain outcomes by deprivation decile (outcomes.running_figures.DECILE_*): a contribution
    # kept from before would be taken away with cells it never added. So the totals and the contributions start
    # again empty and every referral is marked to be counted, as 0005 did; the refresh (the beat task, and each
    # figure page for its partnership before it reads) counts them with the code of the day.
    Referral = apps.get_model("referrals", "Referral")
    FiguresPending = apps.get_model("outcomes", "FiguresPending")
    for name in ("FigureCell", "CaseloadCell", "ReferralContribution"):
        apps.get_model("outcomes", name).objects.all().delete()
    # A referral already marked is counted from scratch by that mark (its contribution is gone): one mark each.
    rows = (
        Referral.objects.exclude(pk__in=FiguresPending.objects.values("referral_id"))
        .order_by("pk")
        .values_list("pk", "partnership_id")
        .iterator(chunk_size=5000)
    )
    FiguresPending.objects.bulk_create(
        (FiguresPending(referral_id=pk, partnership_id=partnership_id) for pk, partnership_id in rows),
        batch_size=5000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0007_patient_voice"),
    ]

    operations = [migrations.RunPython(count_again_from_scratch, migrations.RunPython.noop, elidable=True)]
