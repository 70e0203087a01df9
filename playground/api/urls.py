from django.urls import path

from playground.api import openai_views

urlpatterns = [
    path("v1/images/generations", openai_views.image_generations, name="openai-images-generations"),
    path("v1/images/edits", openai_views.image_edits, name="openai-images-edits"),
]
