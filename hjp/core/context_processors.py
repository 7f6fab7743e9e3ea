from hjp.accounts.roles import roles_for
from hjp.core.navigation import nav_items_for
from hjp.notifications.selectors import unread_count

# Where the inbox count is kept on the request once read: a page rendering several templates (or a template
# rendered twice) reads it once.
UNREAD_COUNT_ATTRIBUTE = "_hjp_unread_messages"


def navigation(request):
    """What every signed-in page's navigation needs, in two queries per request however many templates ask:
    the memberships (roles_for, kept on the user) and the inbox count (kept on the request)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if getattr(request, "second_factor_stage", None):
        # Signed in with a password only: nothing to navigate to before the second step (hjp.accounts.middleware).
        return {"second_factor_pending": True}
    if not hasattr(request, UNREAD_COUNT_ATTRIBUTE):
        setattr(request, UNREAD_COUNT_ATTRIBUTE, unread_count(user=user))
    return {
        "nav_items": nav_items_for(user),
        "user_roles": roles_for(user),
        "unread_messages": getattr(request, UNREAD_COUNT_ATTRIBUTE),
    }
