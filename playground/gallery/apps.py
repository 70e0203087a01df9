from django.apps import AppConfig


class GalleryConfig(AppConfig):
    name = "playground.gallery"
    label = "gallery"
