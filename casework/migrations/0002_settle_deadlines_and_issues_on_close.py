from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Schema only: PostgreSQL refuses to alter a table in the transaction that changed its rows, so the data
    step (0003) and the constraints (0004) are migrations of their own."""

    dependencies = [
        ('casework', '0001_initial'),
        ('referrals', '0003_draft_may_be_discarded'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='caseissue',
            name='case_issue_resolved_has_time',
        ),
        migrations.AddField(
            model_name='deadline',
            name='settlement',
            field=models.CharField(blank=True, choices=[('done', 'Done'), ('closed_with_case', 'Closed with the case')], max_length=20),
        ),
        migrations.AlterField(
            model_name='caseissue',
            name='status',
            field=models.CharField(choices=[('open', 'Open'), ('resolved', 'Resolved'), ('closed', 'Closed with the case')], default='open', max_length=10),
        ),
    ]
