from django.db import migrations, models


class Migration(migrations.Migration):
    """The pending marks become an append-only log, one row per change (outcomes.running_figures): the referral is
    no longer the key, so a mark never waits for another transaction's uncommitted mark of the same referral, and a
    refresh deletes only the rows it read. The rows already there stay (each gets an id)."""

    dependencies = [
        ("outcomes", "0005_running_figures"),
    ]

    operations = [
        migrations.AlterField(
            model_name="figurespending",
            name="referral_id",
            field=models.BigIntegerField(),
        ),
        migrations.AddField(
            model_name="figurespending",
            name="id",
            field=models.BigAutoField(primary_key=True, serialize=False),
        ),
    ]
