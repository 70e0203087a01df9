from django.urls import path

from playground.generations import code_view, event_stream, views

urlpatterns = [
    path("", views.playground, name="playground"),
    path("generate/controls/", views.form_controls, name="form-controls"),
    path("generate/code/", code_view.view_code, name="view-code"),
    path("generate/mask-editor/", views.mask_editor_markup, name="mask-editor-markup"),
    path("generations/", views.create_generation, name="create-generation"),
    path("generations/events/", event_stream.job_events, name="job-events"),
    path("generations/<int:pk>/", views.generation_detail, name="generation-detail"),
    path("generations/<int:pk>/cancel/", views.cancel_generation, name="cancel-generation"),
    path("generations/<int:pk>/delete/", views.delete_generation, name="delete-generation"),
    path("generations/<int:pk>/rerun/", views.rerun_generation, name="rerun-generation"),
    path("generations/<int:pk>/inputs/<int:position>/", views.input_file, name="generation-input"),
    path("generations/<int:pk>/mask/", views.mask_file, name="generation-mask"),
    path(
        "generations/<int:pk>/previews/<int:preview_pk>/",
        views.preview_file,
        name="preview-file",
    ),
]
