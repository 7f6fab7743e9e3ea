"""Lock-out after failed sign-ins (django-axes), counted per account and per address apart.

- `username_of`: the account a sign-in names, as the sign-in form reads it (case and spaces do not matter), so
  an attacker cannot start a fresh count by writing the same address in capitals.
- `AccountResetDatabaseHandler`: a successful sign-in clears the failures against its account (the person
  knew the password), never those counted against its address: otherwise an attacker spraying a password
  across accounts could wipe the address's count by signing in to an account of their own.
- `locked_out`: the page a locked-out sign-in gets. It says what happened and when to try again, the same
  whether the account or the address was locked and whether or not the account exists."""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.shortcuts import render
from django.utils import timezone

from hjp.accounts.models import normalise_email
from hjp.core.dates import format_date_time


def username_of(request, credentials=None) -> str | None:
    """The email address a sign-in attempt names, normalised as the sign-in itself matches it."""
    if credentials:
        value = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        value = getattr(request, "data", request.POST).get(settings.AXES_USERNAME_FORM_FIELD)
    return normalise_email(value) if isinstance(value, str) else value


class AccountResetDatabaseHandler(AxesDatabaseHandler):
    def reset_user_attempts(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def locked_out(request, original_response=None, credentials=None):
    """Every failed attempt while locked out restarts the wait, so the wait ends a cool-off from now."""
    cool_off = get_cool_off(request)
    minutes = int(cool_off.total_seconds() // 60)
    context = {
        "minutes": minutes,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "try_again_at": format_date_time(timezone.now() + cool_off),
    }
    return render(request, "registration/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
