"""One page a partnership: its advice organisation tells the partnership's referrers about the service. Plain
text only; the page keeps its line breaks and shows no HTML."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from hjp.accounts.models import Partnership
from hjp.accounts.roles import roles_for
from hjp.core.models import TimeStampedModel

TEXT_LIMIT = 3000


class ServicePageQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ServicePageQuerySet":
        """Who reads a page, written once (`partnerships_visible_to`)."""
        return self.filter(partnership__in=partnerships_visible_to(user).values("pk"))


def partnerships_visible_to(user):
    """The partnerships whose service page the user may read: those their health organisations refer to (as
    referrers), those of their advice organisation (advisors and supervisors), and those they manage (who edit
    the page). Not funders, nor any other partnership's referrers."""
    roles = roles_for(user)
    visible = Q(pk__in=[])
    if roles.referrer_org_ids:
        visible |= Q(pk__in=Partnership.objects.filter(health_organisations__in=roles.referrer_org_ids).values("pk"))
    if roles.advice_org_ids:
        visible |= Q(advice_organisation_id__in=roles.advice_org_ids)
    if roles.manager_partnership_ids:
        visible |= Q(pk__in=roles.manager_partnership_ids)
    return Partnership.objects.filter(visible)


class ServicePage(TimeStampedModel):
    partnership = models.OneToOneField(Partnership, on_delete=models.CASCADE, related_name="service_page")
    helps_with = models.TextField(
        "What the service helps with",
        max_length=TEXT_LIMIT,
        help_text="e.g. benefits (PIP, Universal Credit), debt, housing, employment.",
    )
    eligibility = models.TextField(
        "Who can be referred", max_length=TEXT_LIMIT, help_text="Who the service is for, and who it is not for."
    )
    how_to_refer = models.TextField(
        "How to refer",
        max_length=TEXT_LIMIT,
        help_text="What to ask the patient, what consent to record, what to write in the referral.",
    )
    what_happens_next = models.TextField(
        "What happens after a referral",
        max_length=TEXT_LIMIT,
        blank=True,
        help_text="How soon the service contacts the patient, and what the referrer hears back.",
    )
    contacts = models.TextField(
        "Contacts", max_length=TEXT_LIMIT, help_text="Who to ask about a referral: names, phone numbers, email."
    )
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ServicePageQuerySet.as_manager()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(version__gte=1), name="service_page_version_positive")]

    def __str__(self):
        return f"Service page of {self.partnership}"
