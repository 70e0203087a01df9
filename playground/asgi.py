"""The web app over ASGI (gunicorn with uvicorn workers): pages, files and job event streams.

Django's handler, except that files are streamed by blocks (see core/asgi_files.py).
"""

import os

from playground.core.asgi_files import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "playground.settings")

application = get_asgi_application()
