"""The web app over ASGI (gunicorn with uvicorn workers): pages, files and job event streams."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "playground.settings")

application = get_asgi_application()
