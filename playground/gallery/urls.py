from django.urls import path

from playground.gallery import views

urlpatterns = [
    path("", views.gallery, name="gallery"),
    path("download/", views.gallery_download, name="gallery-download"),
    path("delete/", views.gallery_delete, name="gallery-delete"),
    path("<int:pk>/favourite/", views.image_favourite, name="image-favourite"),
    path("<int:pk>/thumbnail/2x/", views.image_thumbnail_2x, name="image-thumbnail-2x"),
    path("<int:pk>/", views.image_detail, name="image-detail"),
    path("<int:pk>/original/", views.image_original, name="image-original"),
    path("<int:pk>/download/", views.image_download, name="image-download"),
    path("<int:pk>/thumbnail/", views.image_thumbnail, name="image-thumbnail"),
    path("<int:pk>/display/", views.image_display, name="image-display"),
    path("<int:pk>/delete/", views.image_delete, name="image-delete"),
]
