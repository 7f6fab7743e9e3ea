from hjp.accounts.roles import roles_for
from hjp.core.navigation import nav_items_for
from hjp.notifications.selectors import unread_count


def navigation(request):
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
