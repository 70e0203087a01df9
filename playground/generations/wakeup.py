"""Waking idle workers the moment a job is queued, so none waits for its next poll.

PostgreSQL: the queuing transaction sends `NOTIFY`, delivered when it commits, to every worker
on every machine (each holds one LISTEN connection). SQLite lives on one machine: each worker
binds a Unix datagram socket under WAKEUP_DIR and the web process writes a byte to each once
the job has committed. Polling stays as the fallback either way.
"""

import contextlib
import logging
import os
import select
import socket
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction

logger = logging.getLogger(__name__)

CHANNEL = "playground_jobs"
MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to about 108 bytes
SLICE_SECONDS = 0.25  # a stop signal is noticed within this, whatever the poll interval


def notify_workers() -> None:
    """Call inside the transaction that queues a job: workers wake once it commits."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {CHANNEL}")
    else:
        transaction.on_commit(_poke_local_workers)


def _poke_local_workers() -> None:
    send_to_local_sockets("worker-*.sock", b"!")


def send_to_local_sockets(pattern: str, message: bytes) -> None:
    """A datagram to each process listening under WAKEUP_DIR whose socket matches `pattern`.

    A socket nobody reads any more (its process is gone) is removed; a full one is skipped:
    its reader is behind, and polls or catches up.
    """
    directory = Path(settings.WAKEUP_DIR)
    if not directory.is_dir():
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        sender.setblocking(False)
        for path in directory.glob(pattern):
            try:
                sender.sendto(message, str(path))
            except (ConnectionRefusedError, FileNotFoundError):
                path.unlink(missing_ok=True)
            except BlockingIOError:
                pass


class WakeUps:
    """What an idle worker waits on instead of sleeping through its poll interval."""

    def __init__(self) -> None:
        self.listener: Any = None
        self.socket: socket.socket | None = None
        self.socket_path: Path | None = None
        self.interrupted = False  # set by a signal handler: stop waiting
        if connection.vendor == "postgresql":
            self._listen()
        else:
            self._bind()

    def _listen(self) -> None:
        import psycopg

        params = connection.get_connection_params()
        try:
            self.listener = psycopg.connect(**params, autocommit=True)
            self.listener.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as error:
            logger.warning("LISTEN failed (%s): polling only", error)
            self.listener = None

    def _bind(self) -> None:
        directory = Path(settings.WAKEUP_DIR)
        path = directory / f"worker-{os.getpid()}.sock"
        if len(str(path)) > MAX_SOCKET_PATH:
            logger.warning("%s is too long for a socket: polling only", path)
            return
        directory.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(str(path))
        self.socket.setblocking(False)
        self.socket_path = path

    def wait(self, seconds: float) -> None:
        """Return when a job may have been queued, or after `seconds` at the latest."""
        deadline = time.monotonic() + seconds
        while not self.interrupted and (left := deadline - time.monotonic()) > 0:
            if self._wait_once(min(left, SLICE_SECONDS)):
                return

    def _wait_once(self, seconds: float) -> bool:
        """True when woken, False when the time ran out."""
        if self.listener is not None:
            try:
                return any(True for _ in self.listener.notifies(timeout=seconds, stop_after=1))
            except Exception as error:  # a broken LISTEN connection: poll, listen again later
                logger.warning("LISTEN connection lost (%s): polling", error)
                self.close()
                time.sleep(seconds)
                self._listen()
                return False
        if self.socket is not None:
            readable, _, _ = select.select([self.socket], [], [], seconds)
            if readable:
                self._drain()
            return bool(readable)
        time.sleep(seconds)
        return False

    def _drain(self) -> None:
        assert self.socket is not None
        with contextlib.suppress(BlockingIOError):
            while self.socket.recv(64):
                pass

    def close(self) -> None:
        if self.listener is not None:
            with contextlib.suppress(Exception):
                self.listener.close()
            self.listener = None
        if self.socket is not None:
            self.socket.close()
            self.socket = None
        if self.socket_path is not None:
            self.socket_path.unlink(missing_ok=True)
            self.socket_path = None
