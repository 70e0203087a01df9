from django.apps import AppConfig


class OfflineApiConfig(AppConfig):
    name = "playground.offline_api"
    label = "offline_api"
