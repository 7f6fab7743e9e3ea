from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "hjp.accounts"
    label = "accounts"
    verbose_name = "Users, organisations and partnerships"


class HjpAdminConfig(admin_apps.AdminConfig):
    """Django's admin on a site that also needs the second factor (hjp.accounts.admin_site). Not the default
    configuration of this module: INSTALLED_APPS names it in place of "django.contrib.admin"."""

    default = False
    default_site = "hjp.accounts.admin_site.SecondFactorAdminSite"
