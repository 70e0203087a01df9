"""Waking idle workers the moment a job is queued, so none waits for its next poll.

PostgreSQL: the queuing transaction sends `NOTIFY`, delivered when it commits, to every worker
on every machine (each holds one LISTEN connection). SQLite lives on one machine: each worker
binds a Unix datagram socket under WAKEUP_DIR and the web process writes a byte to each once
the job has committed. Polling stays as the fallback either way.

A LISTEN connection that cannot be made or is lost (the database restarting) is made again,
backing off from LISTEN_RETRY_SECONDS up to LISTEN_RETRY_MAX_SECONDS, whether the worker is
busy or idle; once it is back the worker looks for work at once, as notifications sent
meanwhile were missed.
"""

import contextlib
import logging
import os
import random
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
LISTEN_RETRY_SECONDS = 0.5
LISTEN_RETRY_MAX_SECONDS = 5.0
LISTEN_CHECK_SECONDS = 1.0  # a busy worker checks its LISTEN connection this often
LISTEN_CONNECT_TIMEOUT_SECONDS = 5  # an unreachable host must not stall the claiming loop


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
        self.postgres = connection.vendor == "postgresql"
        self.listen_failures = 0  # failed tries in a row at making the LISTEN connection
        self.next_listen_at = 0.0  # time.monotonic() of the next try, while there is none
        self.next_check_at = 0.0  # when a busy worker next checks its LISTEN connection
        if self.postgres:
            self._listen()
        else:
            self._bind()

    def _listen(self) -> bool:
        """Make the LISTEN connection; on failure, schedule the next try. True when made."""
        import psycopg

        params = connection.get_connection_params()
        params["connect_timeout"] = params.get("connect_timeout") or LISTEN_CONNECT_TIMEOUT_SECONDS
        listener = None
        try:
            listener = psycopg.connect(**params, autocommit=True)
            listener.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as error:
            if listener is not None:
                with contextlib.suppress(Exception):
                    listener.close()
            self.listen_failures += 1
            ceiling = LISTEN_RETRY_SECONDS * 2 ** min(self.listen_failures - 1, 16)
            delay = min(LISTEN_RETRY_MAX_SECONDS, ceiling) * random.uniform(0.5, 1.0)
            self.next_listen_at = time.monotonic() + delay
            log = logger.warning if self.listen_failures == 1 else logger.debug
            log("LISTEN failed (%s): polling; trying again in %.1f s", _first_line(error), delay)
            return False
        if self.listen_failures:
            logger.warning("LISTEN connection back after %d failed tries", self.listen_failures)
        self.listener = listener
        self.listen_failures = 0
        return True

    def keep_listening(self) -> bool:
        """Make a lost LISTEN connection again when its next try is due (called by the
        claiming loop, busy or idle). True when it was just made: what was queued while it
        was missing woke nobody, so look for work now."""
        if not self.postgres or self.interrupted:
            return False
        if self.listener is not None:
            if time.monotonic() < self.next_check_at:
                return False
            self.next_check_at = time.monotonic() + LISTEN_CHECK_SECONDS
            try:  # what arrived while busy is read (and dropped): a lost connection shows
                for _ in self.listener.notifies(timeout=0):
                    pass
                return False
            except Exception as error:
                self._lost(_first_line(error))
        if time.monotonic() < self.next_listen_at:
            return False
        return self._listen()

    def _lost(self, reason: object) -> None:
        logger.warning("LISTEN connection lost (%s): polling, listening again", reason)
        self.close()
        self.next_listen_at = 0.0  # the first try at once, then backing off

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
        if self.postgres and self.keep_listening():
            return True  # listening again: look for what was queued while it was not
        if self.listener is not None:
            try:
                return any(True for _ in self.listener.notifies(timeout=seconds, stop_after=1))
            except Exception as error:  # a broken LISTEN connection: poll, listen again
                self._lost(_first_line(error))
                return False
        if self.postgres:  # no LISTEN connection: sleep until its next try at the latest
            time.sleep(max(0.0, min(seconds, self.next_listen_at - time.monotonic())))
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


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
