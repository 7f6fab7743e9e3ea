from hjp.accounts.roles import roles_for
from hjp.core.navigation import nav_items_for
from hjp.notifications.selectors import unread_count


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_items": nav_items_for(user),
        "user_roles": roles_for(user),
        "unread_messages": unread_count(user=user),
    }
