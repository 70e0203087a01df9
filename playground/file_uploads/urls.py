from django.urls import path

from playground.file_uploads import views

urlpatterns = [
    path("api/file-base64-upload", views.file_base64_upload, name="file-base64-upload"),
    path("api/file-stream-upload", views.file_stream_upload, name="file-stream-upload"),
    path("api/file-url-upload", views.file_url_upload, name="file-url-upload"),
    path("api/uploads/<str:token>/<str:name>", views.download, name="file-upload-download"),
]
