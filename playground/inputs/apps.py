from django.apps import AppConfig


class InputsConfig(AppConfig):
    name = "playground.inputs"
    label = "inputs"
    verbose_name = "Edit inputs"
