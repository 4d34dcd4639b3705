"""Data helpers: minibatches, toy data sets, scikit-learn's digits and MNIST.

Pure numpy (plus the standard library); nothing here depends on the autograd
engine, so batches are plain arrays you wrap in a ``Tensor`` yourself.

* :func:`batches` / :class:`DataLoader` -- shuffled (seeded) minibatches.
* :func:`make_moons`, :func:`make_xor` -- small 2-d classification problems.
* :func:`load_digits` -- scikit-learn's bundled 8x8 digits (needs the optional
  ``scikit-learn``: ``pip install gradviz-engine[examples]``), split train/test.
* :func:`load_mnist` -- the real MNIST, read from the four standard IDX files,
  downloaded once (mirrors tried in order, SHA-256 verified, written
  atomically) into ``~/.cache/gradviz/mnist``; bounded by an overall
  ``deadline`` (:data:`MNIST_DEADLINE`) and a cap per file
  (:data:`MNIST_MAX_FILE_BYTES`).
* :func:`read_idx` / :func:`write_idx` -- the IDX file format, gzipped or not.
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import math
import os
import socket
import struct
import sys
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from ..autograd.fileio import write_atomic

__all__ = ["batches", "DataLoader", "make_moons", "make_xor", "load_digits", "load_mnist",
           "read_idx", "write_idx", "MNIST_FILES", "MNIST_MIRRORS", "MNIST_SHA256",
           "ChecksumError", "DatasetUnavailableError", "MNIST_DEADLINE", "MNIST_MAX_FILE_BYTES"]

# --------------------------------------------------------------------------- minibatches

def _check_batching(fn: str, X: np.ndarray, y: np.ndarray | None, batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"{fn}: batch_size must be an integer >= 1, got {batch_size!r}")
    if X.ndim == 0:
        raise ValueError(f"{fn}: X must have a sample axis, got a 0-d array")
    if y is not None and (y.ndim == 0 or len(y) != len(X)):
        ny = "a 0-d array" if y.ndim == 0 else f"{len(y)} samples"
        raise ValueError(f"{fn}: X and y must have the same length: X has {len(X)} samples, "
                         f"y has {ny}")


def batches(X, y=None, batch_size: int = 32, shuffle: bool = True,
            seed: int | np.random.Generator | None = None,
            drop_last: bool = False) -> Iterator:
    """One epoch of minibatches over the first axis of ``X`` (and ``y``).

    Yields ``(Xb, yb)`` pairs, or ``Xb`` alone when ``y`` is None. Every sample
    appears exactly once; the last batch is smaller when ``batch_size`` does
    not divide ``len(X)``, unless ``drop_last`` drops it. With ``shuffle`` the
    order comes from ``np.random.default_rng(seed)`` (or ``seed`` itself when
    it is a Generator), so a given integer seed always gives the same batches.
    Arguments are checked at call time, not at the first ``next()``.
    """
    X = np.asarray(X)
    y = None if y is None else np.asarray(y)
    _check_batching("batches", X, y, batch_size)
    order = np.random.default_rng(seed).permutation(len(X)) if shuffle else None
    return _iter_batches(X, y, int(batch_size), order, drop_last)


def _iter_batches(X: np.ndarray, y: np.ndarray | None, batch_size: int,
                  order: np.ndarray | None, drop_last: bool) -> Iterator:
    n = len(X)
    stop_at = n - n % batch_size if drop_last else n
    sel: slice | np.ndarray
    for start in range(0, stop_at, batch_size):
        if order is None:                               # views, no copies
            sel = slice(start, min(start + batch_size, n))
        else:
            sel = order[start:start + batch_size]
        yield X[sel] if y is None else (X[sel], y[sel])


class DataLoader:
    """Re-iterable minibatches: ``for Xb, yb in loader`` once per epoch.

    The random Generator is seeded once, at construction, so each epoch is a
    fresh shuffle and the whole sequence of epochs is reproducible for a given
    ``seed``. ``len(loader)`` is the number of batches per epoch.
    """

    def __init__(self, X, y=None, batch_size: int = 32, shuffle: bool = True,
                 seed: int | np.random.Generator | None = None, drop_last: bool = False):
        self.X = np.asarray(X)
        self.y = None if y is None else np.asarray(y)
        _check_batching("DataLoader", self.X, self.y, batch_size)
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        n = len(self.X)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator:
        order = self._rng.permutation(len(self.X)) if self.shuffle else None
        return _iter_batches(self.X, self.y, self.batch_size, order, self.drop_last)

    def __repr__(self) -> str:
        return (f"DataLoader(n={len(self.X)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, batches={len(self)})")


# --------------------------------------------------------------------------- toy data sets

def make_moons(n_samples: int = 100, noise: float = 0.1,
               seed: int | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: ``(X float64 (n, 2), y int64 in {0, 1})``.

    Class 0 is the upper arc ``(cos t, sin t)``, class 1 the lower arc
    ``(1 - cos t, 0.5 - sin t)``, ``t`` evenly spaced in ``[0, pi]``; class 0
    gets the extra point when ``n_samples`` is odd. Gaussian noise of standard
    deviation ``noise`` is added and the samples are shuffled (seeded).
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) \
            or n_samples < 1:
        raise ValueError(f"make_moons: n_samples must be an integer >= 1, got {n_samples!r}")
    if not noise >= 0:                                   # also refuses NaN
        raise ValueError(f"make_moons: noise must be >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    n_upper = (n_samples + 1) // 2
    n_lower = n_samples - n_upper
    t_up = np.linspace(0.0, np.pi, n_upper)
    t_lo = np.linspace(0.0, np.pi, n_lower)
    upper = np.column_stack([np.cos(t_up), np.sin(t_up)])
    lower = np.column_stack([1.0 - np.cos(t_lo), 0.5 - np.sin(t_lo)])
    X = np.concatenate([upper, lower]).astype(np.float64)
    y = np.concatenate([np.zeros(n_upper, np.int64), np.ones(n_lower, np.int64)])
    if noise > 0:
        X += rng.normal(0.0, noise, size=X.shape)
    order = rng.permutation(n_samples)
    return X[order], y[order]


def make_xor() -> tuple[np.ndarray, np.ndarray]:
    """The XOR truth table: ``X`` float64 ``(4, 2)`` of 0/1 inputs, ``y`` int64 ``a xor b``."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return X, np.array([0, 1, 1, 0], dtype=np.int64)


def load_digits(test_fraction: float = 0.2, seed: int | None = 0, normalize: bool = True
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits (1797 images, no download), split at random.

    Returns ``(X_train, y_train, X_test, y_test)``: X float32 ``(n, 64)``,
    divided by 16 into ``[0, 1]`` when ``normalize`` (raw 0..16 otherwise);
    y int64 in 0..9. ``round(1797 * test_fraction)`` samples go to the test set
    after a shuffle seeded by ``seed`` (not stratified).
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"load_digits: test_fraction must be in (0, 1), got {test_fraction!r}")
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError as exc:
        raise ImportError("load_digits needs scikit-learn, an optional extra: "
                          "pip install 'gradviz-engine[examples]' (or pip install scikit-learn)"
                          ) from exc
    bunch = _sk_load_digits()
    X = np.asarray(bunch.data, dtype=np.float32)
    y = np.asarray(bunch.target, dtype=np.int64)
    if normalize:
        X /= np.float32(16.0)
    n = len(X)
    n_test = min(max(round(n * float(test_fraction)), 1), n - 1)  # round(float) is an int
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], y[train], X[test], y[test]


# --------------------------------------------------------------------------- IDX files

# IDX type code -> big-endian numpy dtype (the format stores everything MSB first).
_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_IDX_CODES = {dt.newbyteorder("="): code for code, dt in _IDX_DTYPES.items()}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzipped or plain, told apart by the gzip magic bytes).

    The header is two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B
    int16, 0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions,
    then each dimension as a big-endian uint32; the big-endian data follows.
    Returns a native-byte-order array of that shape. A bad header, unknown
    type code, missing or extra data, or a corrupt or truncated gzip stream is
    a ValueError naming the file. A gzipped file is decompressed only as far
    as its header says (plus one byte, to notice extra data), so a small file
    cannot expand without limit.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
        f.seek(0)
        if not gz:
            return _parse_idx(path, f)
        try:
            with gzip.GzipFile(fileobj=f, mode="rb") as g:
                return _parse_idx(path, g)
        except (OSError, EOFError, zlib.error) as exc:     # BadGzipFile is an OSError
            raise ValueError(f"read_idx: {path!r} is a corrupt or truncated gzip file: "
                             f"{type(exc).__name__}: {exc}") from exc


def _read_upto(f, n: int) -> bytes:
    """At most ``n`` bytes from ``f``, in chunks (no n-byte buffer up front)."""
    parts, left = [], n
    while left > 0:
        chunk = f.read(min(left, 1 << 20))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _parse_idx(path: str, f) -> np.ndarray:
    head = _read_upto(f, 4)
    if len(head) < 4 or head[:2] != b"\x00\x00":
        raise ValueError(f"read_idx: {path!r} is not an IDX file (bad magic: first bytes "
                         f"{head.hex() or 'missing'}, expected 0000 then type and ndim)")
    code, ndim = head[2], head[3]
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        raise ValueError(f"read_idx: {path!r} has unknown IDX type code 0x{code:02X} "
                         f"(known: {known})")
    dims = _read_upto(f, 4 * ndim)
    if len(dims) < 4 * ndim:
        raise ValueError(f"read_idx: {path!r} is truncated: its header declares {ndim} "
                         f"dimensions but the file has only {4 + len(dims)} bytes")
    shape = struct.unpack(f">{ndim}I", dims)
    dtype = _IDX_DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize
    body = _read_upto(f, expected + 1)
    got = len(body)
    if got != expected:
        what = "truncated" if got < expected else "longer than its header says"
        found = f"{got}"
        if got > expected:          # count the extra bytes, up to 1 MiB of them
            extra = len(_read_upto(f, 1 << 20))
            found = f"{got + extra}" if extra < 1 << 20 else f"more than {got + extra}"
        raise ValueError(f"read_idx: {path!r} is {what}: shape {shape} of {dtype.name} "
                         f"needs {expected} data bytes, found {found}")
    return np.frombuffer(body, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array) -> str:
    """Write ``array`` as an IDX file (gzipped when ``path`` ends in ``.gz``).

    Supported dtypes: uint8, int8, int16, int32, float32, float64. The file is
    written to a temp file in the same directory and moved into place with
    ``os.replace``, so readers never see half a file. Returns the path.
    """
    path = os.fspath(path)
    a = np.asarray(array)
    code = _IDX_CODES.get(a.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"write_idx: dtype {a.dtype} has no IDX type code; use one of "
                         "uint8, int8, int16, int32, float32, float64")
    if a.ndim > 255 or any(d >= 2 ** 32 for d in a.shape):
        raise ValueError(f"write_idx: shape {a.shape} does not fit the IDX header "
                         "(at most 255 dimensions, each < 2**32)")
    payload = (bytes([0, 0, code, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
               + np.ascontiguousarray(a, dtype=_IDX_DTYPES[code]).tobytes())
    if path.endswith(".gz"):
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:   # reproducible bytes
            gz.write(payload)
        payload = buf.getvalue()
    _atomic_write(path, [payload])
    return path


def _atomic_write(path: str, chunks) -> None:
    """Write ``chunks`` (an iterable of bytes) to ``path`` atomically."""
    try:
        write_atomic(path, chunks)
    finally:
        close = getattr(chunks, "close", None)     # a generator: release its connection now
        if close is not None:
            close()


# --------------------------------------------------------------------------- MNIST

MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/")
# SHA-256 of the official gzipped files (9,912,422 / 28,881 / 1,648,877 / 4,542
# bytes), as published by several independent MNIST loaders; cross-checked
# against each other, not computed here.
MNIST_SHA256: dict[str, str | None] = {
    "train-images-idx3-ubyte.gz":
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz":
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz":
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz":
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}


#: load_mnist's defaults: the overall download deadline (seconds) and the cap per file.
MNIST_DEADLINE = 600.0
MNIST_MAX_FILE_BYTES = 64 * 2 ** 20


class ChecksumError(ValueError):
    """A data file whose SHA-256 is not the expected one."""


class DatasetUnavailableError(OSError):
    """Data files missing locally that could not be downloaded."""


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _progress(total: int | None, name: str):
    """A tqdm bar when stderr is a terminal and tqdm is importable, else None."""
    if not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="B", unit_scale=True, desc=name, leave=False)


class _Budget:
    """The overall download deadline (None: none)."""

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self.end = None if seconds is None else time.monotonic() + seconds

    def left(self) -> float | None:
        return None if self.end is None else self.end - time.monotonic()

    def check(self, url: str) -> None:
        left = self.left()
        if left is not None and left <= 0:
            raise _DeadlineExceeded(f"gave up on {url}: the overall download deadline of "
                                    f"{self.seconds:g} s (deadline=) has passed")


class _DeadlineExceeded(Exception):
    pass


class _TooLarge(ValueError):
    pass


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    return isinstance(exc, (TimeoutError, socket.timeout))


def _download(url: str, dest: str, expected: str | None, timeout: float,
              budget: _Budget | None = None, max_bytes: int | None = None) -> None:
    """Fetch ``url`` into ``dest`` atomically; refuse (and discard) a wrong hash,
    a body over ``max_bytes``, and stop when ``budget`` runs out (checked
    before each read; one read waits at most ``timeout``)."""
    h = hashlib.sha256()
    budget = budget or _Budget(None)

    def chunks():
        budget.check(url)
        left = budget.left()
        wait = timeout if left is None else max(min(timeout, left), 0.001)
        with urllib.request.urlopen(url, timeout=wait) as resp:
            length = resp.headers.get("Content-Length")
            size = int(length) if length and length.isdigit() else None
            if max_bytes is not None and size is not None and size > max_bytes:
                raise _TooLarge(f"{url} is {size:,} bytes (Content-Length), over the "
                                f"{max_bytes:,}-byte cap per file (max_file_bytes=)")
            bar = _progress(size, os.path.basename(dest))
            got = 0
            try:
                while True:
                    budget.check(url)
                    block = resp.read1(1 << 16)      # returns what has arrived: a trickle
                    if not block:                    # cannot hold us past the deadline
                        break
                    got += len(block)
                    if max_bytes is not None and got > max_bytes:
                        raise _TooLarge(f"{url} sent more than the {max_bytes:,}-byte cap "
                                        "per file (max_file_bytes=)")
                    h.update(block)
                    if bar is not None:
                        bar.update(len(block))
                    yield block
            finally:
                if bar is not None:
                    bar.close()
        if expected is not None and h.hexdigest() != expected.lower():
            raise ChecksumError(f"{url} has SHA-256 {h.hexdigest()}, expected {expected}")

    _atomic_write(dest, chunks())       # a failure anywhere leaves no file behind


def load_mnist(root: str | os.PathLike = "~/.cache/gradviz/mnist", download: bool = True,
               normalize: bool = True, *, mirrors: Sequence[str] | None = None,
               sha256: Mapping[str, str | None] | None = None, timeout: float = 30.0,
               deadline: float | None = MNIST_DEADLINE,
               max_file_bytes: int | None = MNIST_MAX_FILE_BYTES
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST as ``(X_train, y_train, X_test, y_test)``.

    X is float32 ``(N, 784)``, in ``[0, 1]`` when ``normalize`` (raw 0..255
    otherwise); y is int64. The four standard files (:data:`MNIST_FILES`) are
    read from ``root``; with ``download=True`` the missing ones are fetched
    from ``mirrors`` (default :data:`MNIST_MIRRORS`, tried in order) into
    ``root`` atomically. ``download=False`` never touches the network.

    Limits on the network: ``timeout`` (seconds) bounds each connection
    attempt and each read; a mirror that times out once is not asked again
    (for any file) in this call. ``deadline`` (seconds, default
    :data:`MNIST_DEADLINE` = 600; None for none) bounds all the downloads
    together: it is checked before every read, so a server that trickles one
    byte at a time is abandoned at the deadline (at most one ``timeout``
    later). ``max_file_bytes`` (default :data:`MNIST_MAX_FILE_BYTES` = 64 MiB,
    the largest official file is 9.9 MB; None for no cap) caps each file: a
    larger Content-Length is refused before the body is read, and a body that
    grows past it is cut off.

    Every file, cached or fresh, is checked against ``sha256`` (default
    :data:`MNIST_SHA256`; a given mapping replaces the table, and a file
    mapped to None or left out is not checked). A cached file that fails the
    check is left alone and refused with :class:`ChecksumError`; a corrupt
    file (not IDX, bad gzip) is a ValueError; nothing could be found or
    fetched (the deadline included) is a :class:`DatasetUnavailableError` (an
    OSError).
    """
    root = os.path.abspath(os.path.expanduser(os.fspath(root)))
    mirrors = MNIST_MIRRORS if mirrors is None else tuple(mirrors)
    if sha256 is None:
        sha256 = MNIST_SHA256
    unknown = set(sha256) - set(MNIST_FILES)
    if unknown:
        raise ValueError(f"load_mnist: sha256 has unknown file names {sorted(unknown)}; "
                         f"expected some of {list(MNIST_FILES)}")
    for what, v in (("timeout", timeout), ("deadline", deadline)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))
                              or not v > 0):
            raise ValueError(f"load_mnist: {what} must be a number of seconds > 0"
                             f"{'' if what == 'timeout' else ' or None'}, got {v!r}")
    if max_file_bytes is not None and (isinstance(max_file_bytes, bool) or not isinstance(
            max_file_bytes, int) or max_file_bytes < 1):
        raise ValueError(f"load_mnist: max_file_bytes must be an int >= 1 or None, "
                         f"got {max_file_bytes!r}")
    paths = {name: os.path.join(root, name) for name in MNIST_FILES}
    unzipped = set()  # the files as most people keep them: gunzipped, without '.gz'
    for name in MNIST_FILES:
        plain = paths[name].removesuffix(".gz")
        if not os.path.isfile(paths[name]) and os.path.isfile(plain):
            paths[name] = plain
            unzipped.add(name)
    missing = [n for n in MNIST_FILES if not os.path.isfile(paths[n])]
    last_error: BaseException | None = None
    gave_up = ""
    if missing and download:
        os.makedirs(root, exist_ok=True)
        budget = _Budget(deadline)
        dead: dict[str, str] = {}                  # mirror -> why it is not asked again
        for name in list(missing):
            for mirror in mirrors:
                if mirror in dead:
                    continue
                url = mirror.rstrip("/") + "/" + name
                try:
                    _download(url, paths[name], sha256.get(name), timeout, budget,
                              max_file_bytes)
                except _DeadlineExceeded as exc:
                    gave_up = str(exc)
                    break
                except (OSError, ValueError, http.client.HTTPException) as exc:
                    last_error = exc
                    if _is_timeout(exc):
                        dead[mirror] = "timed out"
                    continue
                missing.remove(name)
                break
            if gave_up:
                break
    if missing:
        if not download:
            why = "download=False, so nothing was fetched"
        elif gave_up:
            why = f"{gave_up} (last error: {last_error!r})"
        else:
            why = f"downloading from {list(mirrors)} failed (last error: {last_error!r})"
        where = root if os.path.isdir(root) else f"{root} (which does not exist)"
        raise DatasetUnavailableError(
            f"load_mnist: missing {missing} in {where}; {why}. To install them by hand, "
            f"download the files from one of {list(MNIST_MIRRORS)} and put them in {root}, "
            f"gzipped or not (or pass root= pointing at them).")
    for name in MNIST_FILES:
        expected = sha256.get(name)
        if expected is not None and name not in unzipped:  # (the sums are the .gz files')
            actual = _sha256_file(paths[name])
            if actual != expected.lower():
                raise ChecksumError(
                    f"load_mnist: {paths[name]} has SHA-256 {actual}, expected {expected}; "
                    "refusing to use it (it may be corrupt or partial: delete it to download "
                    "it again)")
    arrays = {name: read_idx(paths[name]) for name in MNIST_FILES}
    out: list[np.ndarray] = []
    for images_name, labels_name in (MNIST_FILES[:2], MNIST_FILES[2:]):
        images, labels = arrays[images_name], arrays[labels_name]
        if images.ndim != 3 or labels.ndim != 1:
            raise ValueError(f"load_mnist: expected images (N, rows, cols) and labels (N,), got "
                             f"{images_name} {images.shape} and {labels_name} {labels.shape}")
        if len(images) != len(labels):
            raise ValueError(f"load_mnist: {images_name} holds {len(images)} images but "
                             f"{labels_name} holds {len(labels)} labels")
        X = images.reshape(len(images), -1).astype(np.float32)
        if normalize:
            X /= np.float32(255.0)
        out += [X, labels.astype(np.int64)]
    X_train, y_train, X_test, y_test = out
    return X_train, y_train, X_test, y_test
