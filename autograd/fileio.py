"""Atomic file writes, shared by everything that saves a file (checkpoints,
datasets, diagrams, plots).

A file is written to a temp file in the same directory, flushed to disk and
moved over the target with ``os.replace``: readers see the old file or the
new one, never half a file, and a crash or an error leaves the old file as it
was (the temp file is removed).

What is at the path decides where the bytes go, and nothing is ever replaced
that is not a regular file:

* nothing: a new file with the usual permissions (0666 less the process
  umask), like a file opened with ``open(path, "w")``;
* a regular file: replaced atomically; the new file keeps the old one's
  permission bits (and, when the process may, its owner and group);
* a symlink (or a chain of them): followed to its final target, which is then
  written atomically as above -- the link stays a link. A dangling link
  creates its target, as ``open(path, "w")`` would (the target's directory
  must exist); a symlink loop is an OSError (ELOOP);
* a directory: :class:`IsADirectoryError`;
* a special file -- a named pipe (FIFO), a character or block device such as
  ``/dev/null``, a socket -- directly or through a symlink:
  :class:`SpecialFileError` (an OSError) naming the path and its kind, raised
  before anything is written. Atomic replacement would swap the device or
  pipe for a regular file, so gradviz refuses instead; write to such a file
  yourself with ``open()`` if that is what you mean.
"""
from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterable, Iterator
from typing import IO

__all__ = ["atomic_path", "atomic_open", "write_atomic", "resolve_target", "SpecialFileError"]


class SpecialFileError(OSError):
    """The path names (or a symlink at it leads to) something that is not a
    regular file or a directory: a FIFO, a device node or a socket."""


_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def resolve_target(path: str | os.PathLike) -> tuple[str, os.stat_result | None]:
    """Where a write to ``path`` lands: ``(target, stat of target or None)``.

    Symlinks are followed to their final target (a dangling link gives the
    path it points to). A directory is an IsADirectoryError and a special file
    a :class:`SpecialFileError`, both naming ``path`` (and the target when a
    link leads there)."""
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    target = path
    try:
        is_link = stat.S_ISLNK(os.lstat(path).st_mode)
    except FileNotFoundError:
        is_link = False
    if is_link:
        target = os.path.realpath(path)
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, f"cannot write {path!r}: the symlinks at it form a loop",
                          path) from None
        raise
    via = f" (the symlink {path!r} leads to {target!r})" if target != path else ""
    if st is None:
        folder = os.path.dirname(os.path.abspath(target))
        if not os.path.isdir(folder):
            raise FileNotFoundError(errno.ENOENT, f"cannot write {path!r}: no directory "
                                    f"{folder!r}{via}", path)
    else:
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, f"cannot write {path!r}: it is a directory{via}",
                                    path)
        if not stat.S_ISREG(st.st_mode):
            raise SpecialFileError(
                errno.EINVAL,
                f"cannot write {path!r}: it is {_kind(st.st_mode)}, not a regular file{via}; "
                "gradviz writes files atomically by replacing them and never replaces a "
                "special file -- choose another path", path)
    return target, st


def _temp_name(path: str, suffix: str) -> str:
    d, base = os.path.split(os.path.abspath(path))
    return os.path.join(d, f".{base}.{secrets.token_hex(4)}{suffix}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[str]:
    """Yield a fresh temp path beside ``path``'s target (see the module
    docstring) for a library that writes by file name (``savefig``, ``dot
    -o``); it replaces the target when the block succeeds. ``suffix`` lets the
    writer see the right extension."""
    target, st = resolve_target(path)
    tmp = _temp_name(target, suffix)
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))  # umask applies
    try:
        if st is not None:
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
            with contextlib.suppress(OSError):   # only when allowed (root, or same owner)
                if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
                    os.chown(tmp, st.st_uid, st.st_gid)
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb",
                encoding: str | None = None) -> Iterator[IO]:
    """``open(path, mode)`` for writing, atomically (see the module docstring)."""
    if not any(c in mode for c in "wx") or "+" in mode:
        raise ValueError(f"atomic_open: mode {mode!r} is not a plain write mode")
    with atomic_path(path) as tmp:
        with open(tmp, mode.replace("x", "w"), encoding=encoding) as f:
            yield f


def write_atomic(path: str | os.PathLike, data: bytes | str | Iterable[bytes]) -> str:
    """Write ``data`` (bytes, text as UTF-8, or an iterable of byte chunks) to
    ``path`` atomically (see the module docstring). Returns the path as a str
    (the path given, not a symlink's target)."""
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
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
