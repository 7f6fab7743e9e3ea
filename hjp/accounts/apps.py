from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "hjp.accounts"
    label = "accounts"
    verbose_name = "Users, organisations and partnerships"
