"""The app served over ASGI by uvicorn in a thread of the test run, as gunicorn serves it.

pytest-django's live server speaks WSGI, which buffers a streaming response whole: an event
stream would never reach the browser. This one runs the same ASGI application as production,
with static files served from the finders like Django's own live server.
"""

import socket
import threading
import time

import uvicorn
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.test.utils import modify_settings

from playground.core.asgi_files import get_asgi_application

START_TIMEOUT_SECONDS = 10.0


class AsgiLiveServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, 0))
        self.port = int(self.socket.getsockname()[1])
        self.url = f"http://{host}:{self.port}"
        # What pytest-django's helper enables around each test that uses the server.
        self._live_server_modified_settings = modify_settings(ALLOWED_HOSTS={"append": host})
        config = uvicorn.Config(
            ASGIStaticFilesHandler(get_asgi_application()),
            lifespan="off",
            log_level="warning",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the ASGI test server did not start")
            time.sleep(0.01)

    def __str__(self) -> str:
        return self.url

    def stop(self) -> None:
        """Stop serving; open event streams end and the process's listener closes with them."""
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()
