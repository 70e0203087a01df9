"""Django's SQLite backend, with the threads of one process taking turns at the write lock.

SQLite lets one connection write at a time. One that finds the write lock taken sleeps and
tries again, and its sleeps grow to 100 ms, so when many threads of one process (a worker
settling hundreds of jobs) wait for the lock, it sits free between their tries and a thread
can lose for seconds to threads that came later. Here a thread first queues on a lock of this
process, so one thread at a time asks SQLite and the next is woken the moment it is done;
threads of other processes (the web server) still meet SQLite's own wait.
"""

import threading

from django.db import OperationalError
from django.db.backends.sqlite3 import base

# One per process: every connection to the database file competes for the same write lock.
_write_turn = threading.RLock()


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_write_turn = False

    def _start_transaction_under_autocommit(self) -> None:
        # As long as SQLite itself would wait before answering "database is locked".
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        if not _write_turn.acquire(timeout=timeout):
            raise OperationalError("database is locked (other threads of this process write)")
        self._holds_write_turn = True
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._give_back_write_turn()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()
        finally:
            self._give_back_write_turn()

    def _rollback(self) -> None:
        try:
            super()._rollback()
        finally:
            self._give_back_write_turn()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self._give_back_write_turn()

    def _give_back_write_turn(self) -> None:
        if self._holds_write_turn:
            self._holds_write_turn = False
            _write_turn.release()
