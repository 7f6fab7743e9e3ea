"""Demo organisations, partnership and users for `manage.py seed_demo`. Idempotent."""

import base64
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django_otp.plugins.otp_totp.models import TOTPDevice

from hjp.accounts.models import (
    Funding,
    InKindSupport,
    Membership,
    Organisation,
    Partnership,
    Profession,
    Role,
    Team,
    User,
)

DEMO_PASSWORD = "hjp-demo-password-2026"
# Every demo user's authenticator app has this published secret, so the demo signs in without a phone
# (`manage.py demo_code` prints the current code). It is refused outside DEBUG: never created, never accepted.
DEMO_TOTP_SECRET = "HJPDEMOSECRETHJPDEMOSECRETHJPDEM"
DEMO_TOTP_KEY = base64.b32decode(DEMO_TOTP_SECRET).hex()  # as django-otp stores it


@dataclass
class DemoWorld:
    partnership: Partnership
    advice: Organisation
    practices: list[Organisation]
    hospital: Organisation
    ward: Team
    users: dict[str, User]
    # Another advice service in this hjp, a partner Citywide hands referrals over to (casework.demo).
    partner_advice: Organisation


def _user(email, name, *, staff=False) -> User:
    user, created = User.objects.get_or_create(email=email, defaults={"full_name": name, "is_staff": staff})
    if created:
        user.set_password(DEMO_PASSWORD)
        if staff:
            user.is_superuser = True
        user.save()
    return user


def demo_authenticator_add(user):
    """Give a demo user a confirmed authenticator app with the published demo secret (once). Refused unless
    DEBUG is on: production settings never create it."""
    if not settings.DEBUG:
        raise ImproperlyConfigured("The demo authenticator has a published secret: it exists only with DEBUG on.")
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, key=DEMO_TOTP_KEY, defaults={"name": "Demo authenticator (published secret)", "confirmed": True}
    )
    return device


def _member(user, role, *, organisation=None, team=None, profession="", partnership=None, is_champion=False):
    Membership.objects.get_or_create(
        user=user,
        role=role,
        organisation=organisation,
        partnership=partnership,
        defaults={"team": team, "profession": profession, "is_champion": is_champion},
    )


def seed_world() -> DemoWorld:
    advice, _ = Organisation.objects.get_or_create(
        name="Citywide Welfare Rights", defaults={"kind": Organisation.Kind.ADVICE}
    )
    riverside, _ = Organisation.objects.get_or_create(
        name="Riverside Surgery",
        defaults={"kind": Organisation.Kind.HEALTH, "ods_code": "Y00001", "shares_referrals_internally": True},
    )
    hillview, _ = Organisation.objects.get_or_create(
        name="Hillview Medical Centre", defaults={"kind": Organisation.Kind.HEALTH, "ods_code": "Y00002"}
    )
    hospital, _ = Organisation.objects.get_or_create(
        name="St Luke's Hospital", defaults={"kind": Organisation.Kind.HEALTH, "ods_code": "RXX01"}
    )
    partner_advice, _ = Organisation.objects.get_or_create(
        name="Northside Law Centre", defaults={"kind": Organisation.Kind.ADVICE}
    )
    ward, _ = Team.objects.get_or_create(organisation=hospital, name="Ward 7 (older people's medicine)")
    # The engagement view: the practices' list sizes (referrals per 1,000 registered patients), and Hillview's
    # teams, one of which has never referred.
    for practice, size in ((riverside, 8400), (hillview, 6100)):
        Organisation.objects.filter(pk=practice.pk, list_size__isnull=True).update(list_size=size)
    nurses, _ = Team.objects.get_or_create(organisation=hillview, name="Practice nurses")
    Team.objects.get_or_create(organisation=hillview, name="Care navigators")
    partnership, _ = Partnership.objects.get_or_create(
        name="Citywide Health Justice Partnership",
        defaults={"advice_organisation": advice, "start_date": date(2025, 4, 1)},
    )
    partnership.health_organisations.add(riverside, hillview, hospital)
    Funding.objects.get_or_create(
        partnership=partnership,
        funder="Citywide Integrated Care Board",
        defaults={"amount": 60000, "period_start": date(2025, 4, 1), "period_end": date(2027, 3, 31)},
    )
    Funding.objects.get_or_create(
        partnership=partnership,
        funder="Citywide Community Foundation",
        defaults={"amount": 15000, "period_start": date(2025, 10, 1), "period_end": date(2026, 9, 30)},
    )
    # Beside the money: a consulting room at the surgery and the ward's admin time.
    InKindSupport.objects.get_or_create(
        partnership=partnership,
        kind=InKindSupport.Kind.ROOM,
        provider="Riverside Surgery",
        defaults={
            "description": "Consulting room for the advisor, Tuesdays and Thursdays",
            "estimated_value": 5200,
            "period_start": date(2025, 4, 1),
            "period_end": date(2027, 3, 31),
        },
    )
    InKindSupport.objects.get_or_create(
        partnership=partnership,
        kind=InKindSupport.Kind.ADMIN_TIME,
        provider="St Luke's Hospital",
        defaults={
            "description": "Ward clerk time to book advice appointments",
            "estimated_value": 2400,
            "period_start": date(2025, 4, 1),
            "period_end": date(2026, 3, 31),
        },
    )

    users = {
        "referrer": _user("gp@demo.hjp.test", "Dr Asha Patel"),
        "nurse": _user("nurse@demo.hjp.test", "Tom Okafor"),
        "ward": _user("ward@demo.hjp.test", "Grace Lindqvist"),
        "champion": _user("champion@demo.hjp.test", "Dr Lena Marsh"),
        "advisor": _user("advisor@demo.hjp.test", "Sam Reid"),
        "supervisor": _user("supervisor@demo.hjp.test", "Priya Shah"),
        "manager": _user("manager@demo.hjp.test", "Morgan Ellis"),
        "funder": _user("funder@demo.hjp.test", "Jordan Blake"),
        "admin": _user("admin@demo.hjp.test", "Alex Admin", staff=True),
        "partner": _user("partner@demo.hjp.test", "Lee Hart"),
    }
    _member(users["referrer"], Role.REFERRER, organisation=riverside, profession=Profession.GP)
    _member(users["nurse"], Role.REFERRER, organisation=hillview, team=nurses, profession=Profession.NURSE)
    # Hillview's practice champion: its figures and its referrals' outcomes, not the nurse's patients' names
    # (Hillview does not share referrals between its referrers).
    _member(users["champion"], Role.REFERRER, organisation=hillview, profession=Profession.GP, is_champion=True)
    _member(users["ward"], Role.REFERRER, organisation=hospital, team=ward, profession=Profession.SOCIAL_WORKER)
    _member(users["advisor"], Role.ADVISOR, organisation=advice)
    _member(users["supervisor"], Role.SUPERVISOR, organisation=advice)
    _member(users["partner"], Role.ADVISOR, organisation=partner_advice)
    _member(users["manager"], Role.MANAGER, partnership=partnership)
    _member(users["funder"], Role.FUNDER, partnership=partnership)
    for user in users.values():
        demo_authenticator_add(user)
    return DemoWorld(partnership, advice, [riverside, hillview], hospital, ward, users, partner_advice)
