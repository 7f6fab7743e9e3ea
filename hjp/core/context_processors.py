from hjp.accounts.roles import roles_for
from hjp.core.navigation import nav_items_for
from hjp.notifications.selectors import unread_count


def navigation(request):
    """What every signed-in page's navigation needs, however many templates ask: the memberships (roles_for) and
    the inbox count (unread_count), each kept on the user once read. The signed-in user of a request comes with
    its inbox count (hjp.accounts.backends), so a page's navigation costs the memberships' one query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if getattr(request, "second_factor_stage", None):
        # Signed in with a password only: nothing to navigate to before the second step (hjp.accounts.middleware).
        return {"second_factor_pending": True}
    return {
        "nav_items": nav_items_for(user),
        "user_roles": roles_for(user),
        "unread_messages": unread_count(user=user),
    }
