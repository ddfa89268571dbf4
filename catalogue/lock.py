"""One crawl at a time per catalogue: an exclusive lock on a file beside it (`<db>.lock`).

The kernel drops the lock when its process dies, however it dies, so a killed crawl never leaves
a stale lock behind; a crawl that ends removes the file. SQLite's own locking still keeps every other reader and writer safe; this
lock is what stops two crawls interleaving their pages and checkpoints.
"""

import contextlib
import fcntl
import os

from .db import CatalogueError


class CrawlLocked(CatalogueError):
    """Another crawl holds the catalogue's lock."""


def lock_path(db_path):
    return f"{os.fspath(db_path)}.lock"


@contextlib.contextmanager
def crawl_lock(db_path):
    if os.fspath(db_path) == ":memory:":
        yield None
        return
    path = lock_path(db_path)
    while True:
        handle = open(path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()[:40]
            handle.close()
            raise CrawlLocked(
                f"another crawl is writing {os.fspath(db_path)} ({path} is held"
                f"{f' by process {holder}' if holder.isdigit() else ''}): try again when it has finished"
            ) from None
        # The holder before us removes the file as it lets go: a lock taken on a file no longer at
        # the path locks nothing, so take it again on the file that is there now.
        try:
            same = os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        handle.close()
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield path
    finally:
        # Removed while still held (nobody can take it in between), then released by closing: no
        # lock file stays behind. A killed crawl leaves the file, but the kernel has dropped its lock.
        try:
            os.unlink(path)
        except OSError:
            pass
        handle.close()
