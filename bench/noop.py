"""The ceiling tasks: they do (almost) nothing, so their throughput is django-q2's own."""

import os


def noop(i: int) -> int:
    return i


def noop_mark(path: str) -> None:
    """Append one byte to `path` (an O_APPEND write is atomic): the bench counts finished
    tasks by the file's size, so no-ops need no result row, like run tasks."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, b".")
    finally:
        os.close(fd)
