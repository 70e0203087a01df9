from django.urls import path

from playground.api import docs_views, openai_views, task_views

urlpatterns = [
    path("v1/images/generations", openai_views.image_generations, name="openai-images-generations"),
    path("v1/images/edits", openai_views.image_edits, name="openai-images-edits"),
    path("api/openapi.json", docs_views.openapi_document, name="api-openapi"),
    path("api/", docs_views.api_docs, name="api-docs"),
    path("api/v1/jobs/createTask", task_views.create_task, name="api-create-task"),
    path("api/v1/jobs/recordInfo", task_views.record_info, name="api-record-info"),
    path("api/v1/results/<str:token>", task_views.task_result, name="api-task-result"),
]

# Last, so that it shadows no route above: any other /v1 path answers OpenAI's JSON 404.
# (The apps that playground/urls.py includes after this one serve no /v1 path.)
from django.urls import re_path  # noqa: E402

from playground.api.responses import invalid_url  # noqa: E402

urlpatterns.append(re_path(r"^v1(?:/(?P<rest>.*))?\Z", invalid_url, name="openai-invalid-url"))
