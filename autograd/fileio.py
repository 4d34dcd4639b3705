"""Atomic file writes, shared by everything that saves a file (checkpoints,
datasets, diagrams, plots).

A file is written to a temp file in the same directory, flushed to disk and
moved over the target with ``os.replace``: readers see the old file or the
new one, never half a file, and a crash or an error leaves the old file as it
was (the temp file is removed). The new file gets the usual permissions
(0666 less the process umask), like a file opened with ``open(path, "w")``.
"""
from __future__ import annotations

import contextlib
import os
import secrets
from typing import IO, Iterable, Iterator

__all__ = ["atomic_path", "atomic_open", "write_atomic"]


def _temp_name(path: str, suffix: str) -> str:
    d, base = os.path.split(os.path.abspath(path))
    return os.path.join(d, f".{base}.{secrets.token_hex(4)}{suffix}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[str]:
    """Yield a fresh temp path beside ``path`` for a library that writes by
    file name (``savefig``, ``dot -o``); it replaces ``path`` when the block
    succeeds. ``suffix`` lets the writer see the right extension."""
    path = os.fspath(path)
    tmp = _temp_name(path, suffix)
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))  # umask applies
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb", encoding: str | None = None) -> Iterator[IO]:
    """``open(path, mode)`` for writing, atomically (see the module docstring)."""
    if not any(c in mode for c in "wx") or "+" in mode:
        raise ValueError(f"atomic_open: mode {mode!r} is not a plain write mode")
    with atomic_path(path) as tmp:
        with open(tmp, mode.replace("x", "w"), encoding=encoding) as f:
            yield f


def write_atomic(path: str | os.PathLike, data: bytes | str | Iterable[bytes]) -> str:
    """Write ``data`` (bytes, text as UTF-8, or an iterable of byte chunks) to
    ``path`` atomically. Returns the path as a str."""
    path = os.fspath(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_open(path, "wb") as f:
        if isinstance(data, (bytes, bytearray, memoryview)):
            f.write(data)
        else:
            for chunk in data:
                f.write(chunk)
    return path


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
