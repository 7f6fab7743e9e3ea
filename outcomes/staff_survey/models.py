from django.db import models
from django.db.models import Q

from hjp.core.models import TimeStampedModel

USEFULNESS_CHOICES = [
    (1, "1: not useful"),
    (2, "2"),
    (3, "3"),
    (4, "4"),
    (5, "5: very useful"),
]
COMMENT_LIMIT = 1000


class WouldReferAgain(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    UNSURE = "unsure", "Not sure"


class StaffSurveyResponse(TimeStampedModel):
    """One referrer's answer about the service, given after one outcome report reached them: one answer an outcome
    report, held by a unique constraint. It keeps the partnership and the referring organisation (for the results),
    not the referrer's name, and no patient detail; the comment goes with the patient's other free text when
    their details are erased (consent withdrawn, or the retention period's end)."""

    outcome_report = models.ForeignKey(
        "notifications.Message", on_delete=models.PROTECT, related_name="staff_survey_responses"
    )
    partnership = models.ForeignKey("accounts.Partnership", on_delete=models.PROTECT, related_name="+")
    referring_organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    usefulness = models.PositiveSmallIntegerField("how useful the service was", choices=USEFULNESS_CHOICES)
    would_refer_again = models.CharField(max_length=10, choices=WouldReferAgain.choices)
    comment = models.TextField(blank=True, max_length=COMMENT_LIMIT)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["partnership", "created_at"], name="staff_survey_partnership_idx")]
        constraints = [
            models.UniqueConstraint(fields=["outcome_report"], name="staff_survey_one_per_outcome_report"),
            models.CheckConstraint(
                condition=Q(usefulness__gte=1, usefulness__lte=5), name="staff_survey_usefulness_1_to_5"
            ),
            models.CheckConstraint(
                condition=Q(would_refer_again__in=WouldReferAgain.values), name="staff_survey_would_refer_again_known"
            ),
        ]

    def __str__(self):
        return f"Answer about outcome report {self.outcome_report_id}"
