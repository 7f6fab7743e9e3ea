from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('casework', '0003_settle_what_closed_cases_left_open'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='caseissue',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('resolved_at__isnull', True), ('status', 'open')), models.Q(('resolved_at__isnull', False), ('status__in', ['resolved', 'closed'])), _connector='OR'), name='case_issue_resolved_has_time'),
        ),
        migrations.AddConstraint(
            model_name='deadline',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('done_at__isnull', True), ('settlement', '')), models.Q(('done_at__isnull', False), models.Q(('settlement', ''), _negated=True)), _connector='OR'), name='deadline_settled_says_how'),
        ),
    ]
