"""Signing in with an email address and password (Django's ModelBackend), and the signed-in user of each request
read in one query together with what every page needs of it besides its memberships: the inbox's unread count
(hjp.notifications.selectors.unread_count) and the user's confirmed second-factor devices, against which the
device the session was verified with is checked (hjp.accounts.middleware.OTPMiddleware)."""

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from hjp.accounts.factors import confirmed_devices_of_each_user, remember_confirmed_devices
from hjp.notifications.selectors import UNREAD_COUNT_ATTRIBUTE, unread_count_of_each_user


class AccountBackend(ModelBackend):
    def get_user(self, user_id):
        user = (
            get_user_model()
            ._default_manager.annotate(**{UNREAD_COUNT_ATTRIBUTE: unread_count_of_each_user()})
            .annotate(**confirmed_devices_of_each_user())
            .filter(pk=user_id)
            .first()
        )
        if user is None or not self.user_can_authenticate(user):
            return None
        remember_confirmed_devices(user)
        return user

    async def aget_user(self, user_id):
        return await sync_to_async(self.get_user)(user_id)
