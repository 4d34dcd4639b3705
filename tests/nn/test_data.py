"""nn.data: minibatches, toy sets, digits, IDX files and the MNIST loader.

MNIST tests never reach the internet: they write small IDX files themselves and
serve them, when a download is wanted, from a local http.server.
"""
import functools
import gzip
import hashlib
import http.server
import operator
import os
import sys
import threading
import time

import numpy as np
import pytest

from gradviz.nn import data
from gradviz.nn.data import (
    ChecksumError,
    DataLoader,
    DatasetUnavailableError,
    batches,
    load_digits,
    load_mnist,
    make_moons,
    make_xor,
    read_idx,
    write_idx,
)

UNREACHABLE = "http://127.0.0.1:9/"          # discard port: nothing listens, refused at once


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch):
    """Local URLs must not be routed through a proxy from the environment."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)


# --------------------------------------------------------------------------- batches

def test_batches_cover_every_index_once_with_a_partial_last_batch():
    X = np.arange(10).reshape(10, 1)
    y = np.arange(10) * 10
    got = list(batches(X, y, batch_size=4, seed=0))
    assert [len(xb) for xb, _ in got] == [4, 4, 2]
    idx = np.concatenate([xb[:, 0] for xb, _ in got])
    assert sorted(idx) == list(range(10))
    assert not np.array_equal(idx, np.arange(10))          # really shuffled
    for xb, yb in got:                                     # pairs stay aligned
        np.testing.assert_array_equal(yb, xb[:, 0] * 10)


def test_batches_are_deterministic_for_a_seed():
    X = np.arange(50)
    a = [b.tolist() for b in batches(X, batch_size=7, seed=3)]
    b = [b.tolist() for b in batches(X, batch_size=7, seed=3)]
    c = [b.tolist() for b in batches(X, batch_size=7, seed=4)]
    assert a == b and a != c


def test_batches_without_shuffle_are_in_order_and_drop_last():
    X = np.arange(10)
    assert [b.tolist() for b in batches(X, batch_size=3, shuffle=False)] == \
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    dropped = list(batches(X, batch_size=3, shuffle=False, drop_last=True))
    assert [b.tolist() for b in dropped] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert len(list(batches(X, batch_size=5, drop_last=True))) == 2   # exact fit: nothing lost
    assert list(batches(X, batch_size=20, drop_last=True)) == []


def test_batches_yields_x_alone_without_y():
    out = list(batches(np.zeros((5, 3)), batch_size=2, seed=0))
    assert all(isinstance(b, np.ndarray) for b in out) and [b.shape for b in out] == \
        [(2, 3), (2, 3), (1, 3)]


@pytest.mark.parametrize("call, words", [
    (lambda: batches(np.zeros(10), np.zeros(9)), ["batches", "10", "9"]),
    (lambda: batches(np.zeros(10), batch_size=0), ["batches", "batch_size", "0"]),
    (lambda: batches(np.zeros(10), batch_size=2.5), ["batches", "2.5"]),
    (lambda: DataLoader(np.zeros(4), np.zeros(3)), ["DataLoader", "4", "3"]),
])
def test_bad_batching_arguments_fail_at_call_time(call, words):
    with pytest.raises(ValueError) as info:
        call()                                   # no next(): checked eagerly
    for w in words:
        assert w in str(info.value)


def test_dataloader_reshuffles_each_epoch_reproducibly():
    X, y = np.arange(11), np.arange(11) + 100
    loader = DataLoader(X, y, batch_size=4, seed=7)
    assert len(loader) == 3
    epochs = [[xb.tolist() for xb, _ in loader] for _ in range(3)]
    for ep in epochs:
        assert sorted(functools.reduce(operator.iadd, ep, [])) == list(range(11))
    assert epochs[0] != epochs[1]                              # a new shuffle per epoch
    again = DataLoader(X, y, batch_size=4, seed=7)
    assert [[xb.tolist() for xb, _ in again] for _ in range(3)] == epochs
    assert len(DataLoader(X, y, batch_size=4, drop_last=True)) == 2
    assert len(list(DataLoader(X, y, batch_size=4, drop_last=True))) == 2


# --------------------------------------------------------------------------- toy data

def test_make_moons_shapes_labels_and_determinism():
    X, y = make_moons(101, noise=0.1, seed=0)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    assert set(y.tolist()) == {0, 1} and (y == 0).sum() == 51
    X2, y2 = make_moons(101, noise=0.1, seed=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(make_moons(101, seed=1)[0], X)


def test_make_moons_without_noise_lies_on_the_two_arcs():
    X, y = make_moons(40, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert (upper[:, 1] >= 0).all() and (lower[:, 1] <= 0.5 + 1e-12).all()


@pytest.mark.parametrize("kwargs", [{"n_samples": 0}, {"noise": -0.1}, {"noise": float("nan")}])
def test_make_moons_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="make_moons"):
        make_moons(**kwargs)


def test_make_xor_is_the_truth_table():
    X, y = make_xor()
    assert X.shape == (4, 2) and X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(y, np.logical_xor(X[:, 0], X[:, 1]).astype(np.int64))


def test_load_digits_split_dtypes_and_range():
    pytest.importorskip("sklearn")
    Xtr, ytr, Xte, yte = load_digits(test_fraction=0.25, seed=1)
    assert Xtr.shape[1] == Xte.shape[1] == 64
    assert len(Xtr) + len(Xte) == 1797 and len(Xte) == round(1797 * 0.25)
    assert len(ytr) == len(Xtr) and len(yte) == len(Xte)
    assert Xtr.dtype == np.float32 and ytr.dtype == np.int64
    assert Xtr.min() >= 0.0 and Xtr.max() == 1.0
    assert set(ytr.tolist()) == set(range(10))
    again = load_digits(test_fraction=0.25, seed=1)
    np.testing.assert_array_equal(again[3], yte)
    raw = load_digits(normalize=False)[0]
    assert raw.max() == 16.0 and raw.dtype == np.float32


def test_load_digits_without_sklearn_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"gradviz-engine\[examples\].*scikit-learn"):
        load_digits()


def test_load_digits_rejects_a_bad_fraction():
    with pytest.raises(ValueError, match="load_digits.*test_fraction"):
        load_digits(test_fraction=1.0)


# --------------------------------------------------------------------------- IDX

@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 5), (0, 4), ()])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_idx_round_trip(tmp_path, dtype, shape, name):
    rng = np.random.default_rng(0)
    a = (rng.normal(size=shape) * 100).astype(dtype)
    path = tmp_path / name
    assert write_idx(path, a) == str(path)
    b = read_idx(path)
    assert b.dtype == np.dtype(dtype) and b.shape == a.shape and b.dtype.isnative
    np.testing.assert_array_equal(a, b)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    assert os.listdir(tmp_path) == [name]                     # no temp files left


def test_idx_header_is_the_standard_layout(tmp_path):
    write_idx(tmp_path / "x.idx", np.array([[1, 2, 3]], dtype=">i2"))     # big-endian input too
    raw = (tmp_path / "x.idx").read_bytes()
    assert raw == bytes([0, 0, 0x0B, 2, 0, 0, 0, 1, 0, 0, 0, 3, 0, 1, 0, 2, 0, 3])


def test_write_idx_refuses_unsupported_dtypes(tmp_path):
    with pytest.raises(ValueError, match="write_idx.*int64"):
        write_idx(tmp_path / "x.idx", np.zeros(3, dtype=np.int64))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("raw, words", [
    (b"", ["bad magic"]),
    (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", ["bad magic"]),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", ["unknown", "0x07"]),
    (b"\x00\x00\x08\x03\x00\x00\x00\x01", ["truncated", "3 dimensions"]),
    (b"\x00\x00\x08\x02\x00\x00\x00\x02\x00\x00\x00\x03" + b"\x01" * 5, ["truncated", "6", "5"]),
    (b"\x00\x00\x0C\x01\x00\x00\x00\x02" + b"\x00" * 9, ["longer", "8", "9"]),
])
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_refuses_bad_files(tmp_path, raw, words, gz):
    path = tmp_path / ("bad.idx.gz" if gz else "bad.idx")
    path.write_bytes(gzip.compress(raw) if gz else raw)
    with pytest.raises(ValueError) as info:
        read_idx(path)
    msg = str(info.value)
    assert "read_idx" in msg and str(path) in msg
    for w in words:
        assert w in msg


def test_read_idx_refuses_a_truncated_gzip(tmp_path):
    path = tmp_path / "x.idx.gz"
    write_idx(path, np.arange(1000, dtype=np.int32))
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(ValueError, match="read_idx.*gzip"):
        read_idx(path)


# --------------------------------------------------------------------------- MNIST

def _fake_mnist(folder, n_train=20, n_test=10, seed=0):
    """The four MNIST files, small, in `folder`; returns (arrays, sha256 table)."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    os.makedirs(folder, exist_ok=True)
    sums = {}
    for name, a in arrays.items():
        path = write_idx(os.path.join(folder, name), a)
        with open(path, "rb") as f:
            sums[name] = hashlib.sha256(f.read()).hexdigest()
    return arrays, sums


def _check_loaded(out, arrays):
    Xtr, ytr, Xte, yte = out
    assert Xtr.shape == (20, 784) and Xte.shape == (10, 784)
    assert Xtr.dtype == Xte.dtype == np.float32 and ytr.dtype == yte.dtype == np.int64
    assert 0.0 <= Xtr.min() and Xtr.max() <= 1.0
    np.testing.assert_allclose(Xtr * 255, arrays["train-images-idx3-ubyte.gz"].reshape(20, -1),
                               atol=1e-4)
    np.testing.assert_array_equal(ytr, arrays["train-labels-idx1-ubyte.gz"])
    np.testing.assert_array_equal(yte, arrays["t10k-labels-idx1-ubyte.gz"])


def test_official_hash_table_is_complete_and_well_formed():
    assert set(data.MNIST_SHA256) == set(data.MNIST_FILES)
    for h in data.MNIST_SHA256.values():
        assert len(h) == 64 and int(h, 16) >= 0


def test_load_mnist_from_cached_files(tmp_path):
    arrays, sums = _fake_mnist(tmp_path)
    out = load_mnist(tmp_path, download=False, sha256=sums)
    _check_loaded(out, arrays)
    raw = load_mnist(tmp_path, download=False, normalize=False, sha256=sums)[0]
    assert raw.dtype == np.float32 and raw.max() > 1.0
    np.testing.assert_array_equal(raw, arrays["train-images-idx3-ubyte.gz"].reshape(20, -1))
    no_check = dict.fromkeys(sums)                        # None: skip verification
    _check_loaded(load_mnist(tmp_path, download=False, sha256=no_check), arrays)


def test_load_mnist_refuses_a_file_with_the_wrong_hash_and_keeps_it(tmp_path):
    _, sums = _fake_mnist(tmp_path)
    wrong = dict(sums, **{"t10k-labels-idx1-ubyte.gz": "0" * 64})
    with pytest.raises(ChecksumError) as info:
        load_mnist(tmp_path, download=False, sha256=wrong)
    msg = str(info.value)
    assert "t10k-labels-idx1-ubyte.gz" in msg and "0" * 64 in msg
    assert sums["t10k-labels-idx1-ubyte.gz"] in msg                     # the actual hash
    assert sorted(os.listdir(tmp_path)) == sorted(sums)                 # nothing deleted


def test_load_mnist_checks_the_official_hashes_by_default(tmp_path):
    _fake_mnist(tmp_path)                    # our fakes are not the official files
    with pytest.raises(ChecksumError, match=data.MNIST_SHA256["train-images-idx3-ubyte.gz"]):
        load_mnist(tmp_path, download=False)


def test_load_mnist_rejects_unknown_hash_keys(tmp_path):
    with pytest.raises(ValueError, match="unknown file names.*train-images.gz"):
        load_mnist(tmp_path, download=False, sha256={"train-images.gz": None})


def test_load_mnist_checks_image_and_label_counts_agree(tmp_path):
    _, sums = _fake_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(19, dtype=np.uint8))
    with pytest.raises(ValueError, match="20 images.*19 labels"):
        load_mnist(tmp_path, download=False, sha256=dict.fromkeys(sums))


def test_load_mnist_offline_without_download_names_the_missing_files(tmp_path):
    _fake_mnist(tmp_path)
    os.remove(tmp_path / "t10k-images-idx3-ubyte.gz")
    with pytest.raises(DatasetUnavailableError) as info:
        load_mnist(tmp_path, download=False, mirrors=["http://should.not.be.used/"])
    msg = str(info.value)
    assert "t10k-images-idx3-ubyte.gz" in msg and "train-images" not in msg.split(";")[0]
    assert str(tmp_path) in msg and "download=False" in msg


def test_load_mnist_offline_with_nothing_cached_fails_fast_and_clearly(tmp_path):
    root = tmp_path / "cache"
    t0 = time.monotonic()
    with pytest.raises(DatasetUnavailableError) as info:
        load_mnist(root, mirrors=[UNREACHABLE], timeout=5)
    assert time.monotonic() - t0 < 5
    assert isinstance(info.value, OSError)
    msg = str(info.value)
    for name in data.MNIST_FILES:
        assert name in msg
    assert str(root) in msg and UNREACHABLE in msg and "last error" in msg
    assert "Connection refused" in msg or "URLError" in msg
    assert "put them" in msg                                             # how to fix it by hand
    assert os.listdir(root) == []                                        # no partial files


class _LocalHTTP:
    """A local threading HTTP server on a free port (``url``), serving for the
    length of a ``with`` block; ``stop``, if set, is signalled on exit."""

    stop: threading.Event | None = None

    def _serve(self, handler):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        if self.stop is not None:
            self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class _Server(_LocalHTTP):
    """A local http.server over `folder`, counting the files it serves."""

    def __init__(self, folder):
        hits = self.hits = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **k):
                super().__init__(*a, directory=str(folder), **k)

            def do_GET(self):
                hits.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self._serve(Handler)


def test_load_mnist_downloads_verifies_and_caches(tmp_path):
    arrays, sums = _fake_mnist(tmp_path / "served")
    root = tmp_path / "cache"
    with _Server(tmp_path / "served") as srv:
        # the first mirror is down: the second one serves
        out = load_mnist(root, mirrors=[UNREACHABLE, srv.url], sha256=sums, timeout=5)
        _check_loaded(out, arrays)
        assert sorted(srv.hits) == sorted("/" + n for n in data.MNIST_FILES)
        assert sorted(os.listdir(root)) == sorted(data.MNIST_FILES)     # no temp files
        for name in data.MNIST_FILES:
            assert (root / name).read_bytes() == (tmp_path / "served" / name).read_bytes()
        _check_loaded(load_mnist(root, mirrors=[srv.url], sha256=sums), arrays)
        assert len(srv.hits) == 4                                       # served from the cache


def test_load_mnist_discards_a_download_with_the_wrong_hash(tmp_path):
    _, sums = _fake_mnist(tmp_path / "served")
    root = tmp_path / "cache"
    bad = dict(sums, **{"train-labels-idx1-ubyte.gz": "f" * 64})
    with _Server(tmp_path / "served") as srv:
        with pytest.raises(DatasetUnavailableError) as info:
            load_mnist(root, mirrors=[srv.url], sha256=bad, timeout=5)
    msg = str(info.value)
    assert "train-labels-idx1-ubyte.gz" in msg and "f" * 64 in msg
    assert "train-labels-idx1-ubyte.gz" not in os.listdir(root)          # never cached
    assert len(os.listdir(root)) == 3                                   # the good ones are


def test_download_shows_progress_on_a_terminal(tmp_path, monkeypatch):
    pytest.importorskip("tqdm")
    import io

    class Tty(io.StringIO):
        def isatty(self):
            return True

    err = Tty()
    monkeypatch.setattr(sys, "stderr", err)
    arrays, sums = _fake_mnist(tmp_path / "served")
    with _Server(tmp_path / "served") as srv:
        _check_loaded(load_mnist(tmp_path / "cache", mirrors=[srv.url], sha256=sums), arrays)
    assert "train-images-idx3-ubyte.gz" in err.getvalue()           # tqdm's bar was drawn


# --------------------------------------------------------------------------- corrupt gzip (issue 13 item 14)
import tracemalloc  # noqa: E402
import zlib  # noqa: E402

from hypothesis import example, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_ARRAY = np.arange(300, dtype=np.int32).reshape(30, 10)
_GZ = gzip.compress(b"\x00\x00\x0c\x02" + np.array([30, 10], ">u4").tobytes()
                    + _ARRAY.astype(">i4").tobytes(), mtime=0)


def _damaged(edits, cut):
    raw = bytearray(_GZ)
    for pos, val in edits:
        raw[pos % len(raw)] = val
    return bytes(raw[:len(raw) - cut])


@given(st.lists(st.tuples(st.integers(0, len(_GZ) - 1), st.integers(0, 255)), max_size=4),
       st.integers(0, 8))
@example([(40, 0xFF), (41, 0xFF)], 0)          # inside the deflate body: zlib.error today
@example([(len(_GZ) - 6, 0x00)], 0)            # the CRC trailer
@example([(3, 0xFF)], 0)                       # gzip flags: reserved bits set
def test_read_idx_on_any_damaged_gzip_returns_the_data_or_a_value_error(tmp_path_factory,
                                                                        edits, cut):
    path = tmp_path_factory.mktemp("gz") / "x.idx.gz"
    path.write_bytes(_damaged(edits, cut))
    try:
        out = read_idx(path)
    except ValueError as e:
        assert "read_idx" in str(e) and str(path) in str(e)
        assert not isinstance(e, zlib.error)
        return
    np.testing.assert_array_equal(out, _ARRAY)   # only harmless bytes changed (mtime, OS)


def test_load_mnist_with_a_corrupt_gzip_body_is_the_documented_value_error(tmp_path):
    _fake_mnist(tmp_path)
    p = tmp_path / "train-labels-idx1-ubyte.gz"
    raw = bytearray(p.read_bytes())
    raw[12:20] = b"\xff" * 8                     # the deflate stream, after the 10-byte header
    p.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="corrupt or truncated gzip") as info:
        load_mnist(tmp_path, download=False, sha256=dict.fromkeys(data.MNIST_FILES))
    assert "train-labels-idx1-ubyte.gz" in str(info.value)


def test_read_idx_never_inflates_past_what_the_header_declares(tmp_path):
    path = tmp_path / "bomb.idx.gz"
    with gzip.open(path, "wb") as g:             # 10 declared bytes, then 64 MiB of zeros
        g.write(b"\x00\x00\x08\x01" + (10).to_bytes(4, "big") + bytes(10))
        zeros = bytes(1 << 20)
        for _ in range(64):
            g.write(zeros)
    assert path.stat().st_size < 2 ** 20
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="longer than its header says.*more than"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2 ** 20


# --------------------------------------------------------------------------- slow and hostile mirrors (issue 13 item 13)

class _Mirror(_LocalHTTP):
    """A local HTTP/1.0 server whose every GET runs `body(handler, stop)`; counts requests.
    Handlers wait on `stop` (set on exit), so nothing outlives the test."""

    def __init__(self, body):
        hits = self.hits = []
        sent = self.sent = [0]
        stop = self.stop = threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                try:
                    body(self, stop, sent)
                except OSError:                    # the client hung up: fine
                    pass

            def log_message(self, *args):
                pass

        self._serve(Handler)


def _trickle(h, stop, sent, limit=500):
    """Promise a megabyte, then send one byte per 20 ms (500 bytes at most)."""
    h.send_response(200)
    h.send_header("Content-Length", "1000000")
    h.end_headers()
    for _ in range(limit):
        if stop.wait(0.02):
            return
        h.wfile.write(b"x")
        h.wfile.flush()
        sent[0] += 1


def _stall(h, stop, sent):
    """Send the headers and one byte, then nothing until the test ends."""
    h.send_response(200)
    h.send_header("Content-Length", "1000")
    h.end_headers()
    h.wfile.write(b"x")
    h.wfile.flush()
    stop.wait(30)


def _endless(h, stop, sent):
    """No Content-Length: bytes until the client stops reading (or 32 MiB); the most
    one response managed to send goes in sent[0]."""
    h.send_response(200)
    h.end_headers()
    n = 0
    try:
        for _ in range(512):
            if stop.is_set():
                return
            h.wfile.write(bytes(1 << 16))
            n += 1 << 16
    finally:
        sent[0] = max(sent[0], n)


def _serve_files(folder):
    def body(h, stop, sent):
        p = os.path.join(folder, h.path.lstrip("/"))
        if not os.path.isfile(p):
            h.send_error(404)
            return
        raw = open(p, "rb").read()
        h.send_response(200)
        h.send_header("Content-Length", str(len(raw)))
        h.end_headers()
        h.wfile.write(raw)
    return body


def test_a_mirror_trickling_one_byte_at_a_time_is_abandoned_at_the_deadline(tmp_path):
    root = tmp_path / "cache"
    with _Mirror(_trickle) as srv:
        with pytest.raises(DatasetUnavailableError) as info:
            load_mnist(root, mirrors=[srv.url], sha256=None, timeout=5, deadline=0.5)
        assert srv.sent[0] < 500                  # it stopped reading long before the end
        assert len(srv.hits) == 1                 # and asked for nothing after the deadline
    msg = str(info.value)
    assert "deadline of 0.5 s" in msg and "deadline=" in msg
    assert os.listdir(root) == []                 # no partial file


def test_a_mirror_that_times_out_once_is_not_asked_again(tmp_path):
    served = tmp_path / "served"
    _, sums = _fake_mnist(served)
    with _Mirror(_stall) as stalled:
        with pytest.raises(DatasetUnavailableError, match="timed out"):
            load_mnist(tmp_path / "a", mirrors=[stalled.url], sha256=sums, timeout=0.3)
        assert len(stalled.hits) == 1             # not once per file
    with _Mirror(_stall) as stalled, _Mirror(_serve_files(served)) as good:
        out = load_mnist(tmp_path / "b", mirrors=[stalled.url, good.url], sha256=sums,
                         timeout=0.3)
        assert len(stalled.hits) == 1 and sorted(good.hits) == sorted(
            "/" + n for n in data.MNIST_FILES)
    assert out[0].shape == (20, 784)


@pytest.mark.parametrize("body", ["content-length", "no length"])
def test_each_download_is_capped(tmp_path, body):
    served = tmp_path / "served"
    _, sums = _fake_mnist(served)
    root = tmp_path / "cache"
    handler = _serve_files(served) if body == "content-length" else _endless
    with _Mirror(handler) as srv:
        with pytest.raises(DatasetUnavailableError) as info:
            load_mnist(root, mirrors=[srv.url], sha256=sums, timeout=5, max_file_bytes=4000)
        if body == "no length":
            assert srv.sent[0] < 512 * 2 ** 16    # cut off, not read to the end
    msg = str(info.value)
    assert "4,000-byte cap per file" in msg and "max_file_bytes=" in msg
    cached = set(os.listdir(root))                # the small label files came; no image file
    assert not any("images" in n for n in cached)
    if body == "content-length":
        assert cached == {"train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}


@pytest.mark.parametrize("kwargs, words", [
    ({"deadline": 0}, "deadline must be"), ({"timeout": -1}, "timeout must be"),
    ({"deadline": float("nan")}, "deadline must be"), ({"max_file_bytes": 0}, "max_file_bytes"),
])
def test_load_mnist_network_limits_are_checked(tmp_path, kwargs, words):
    with pytest.raises(ValueError, match=words):
        load_mnist(tmp_path, mirrors=[UNREACHABLE], **kwargs)
    assert os.listdir(tmp_path) == []


def test_load_mnist_reads_the_files_gunzipped_too(tmp_path):
    # most people keep MNIST unzipped (train-images-idx3-ubyte): it said they were missing
    import gzip
    arrays, sums = _fake_mnist(tmp_path)
    for name in list(arrays)[:2]:
        gz = tmp_path / name
        (tmp_path / name.removesuffix(".gz")).write_bytes(gzip.decompress(gz.read_bytes()))
        gz.unlink()
    _check_loaded(load_mnist(tmp_path, download=False, sha256=sums), arrays)


def test_load_mnist_says_when_its_folder_does_not_exist(tmp_path):
    with pytest.raises(DatasetUnavailableError, match=r"which does not exist"):
        load_mnist(tmp_path / "nowhere", download=False)
