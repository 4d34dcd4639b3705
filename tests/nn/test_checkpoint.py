"""Checkpoints: .npz written atomically, loaded without pickle, bad files refused."""
import os
import pickle
import zipfile

import numpy as np
import pytest

from gradviz import nn


def _model(seed=0):
    return nn.MLP(2, [4, 1], seed=seed)


def test_save_then_load_round_trip(tmp_path):
    a, b = _model(1), _model(2)
    path = tmp_path / "model.npz"
    assert a.save(path) == str(path)
    state = nn.load_state(path)
    assert list(state) == list(a.state_dict())
    b.load_state_dict(state)
    assert b([0.5, 0.25]).data == a([0.5, 0.25]).data
    with np.load(path, allow_pickle=False) as npz:          # a plain .npz numpy can read
        assert sorted(npz.files) == sorted(a.state_dict())


def test_save_uses_the_exact_path_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "ckpt"                               # no .npz suffix added
    _model().save(path)
    assert os.listdir(tmp_path) == ["ckpt"]
    _model(3).load(path)


def test_failed_save_leaves_old_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    old = _model(1)
    old.save(path)
    before = path.read_bytes()
    calls = []
    real = np.lib.format.write_array

    def crash_on_second_array(fp, array, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full (simulated)")
        return real(fp, array, **kw)

    monkeypatch.setattr(np.lib.format, "write_array", crash_on_second_array)
    with pytest.raises(OSError, match="disk full"):
        _model(2).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]


def test_saving_object_arrays_is_refused(tmp_path):
    path = tmp_path / "s.npz"
    with pytest.raises(nn.CheckpointError, match="object array"):
        nn.save_state({"a": np.array([{"x": 1}], dtype=object)}, path)
    assert not path.exists()


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_checkpoint_is_a_clear_error_and_changes_nothing(tmp_path, damage):
    path = tmp_path / "model.npz"
    _model(1).save(path)
    raw = path.read_bytes()
    path.write_bytes({"truncate": raw[: len(raw) // 2], "garbage": b"not a zip file at all",
                      "empty": b""}[damage])
    target = _model(2)
    before = [p.data for p in target.parameters()]
    with pytest.raises(nn.CheckpointError, match="cannot read checkpoint .*model.npz"):
        target.load(path)
    assert [p.data for p in target.parameters()] == before


def test_corrupted_array_bytes_are_caught(tmp_path):
    path = tmp_path / "model.npz"
    _model(1).save(path)
    raw = bytearray(path.read_bytes())
    i = raw.index(b"\x93NUMPY") + 30           # inside the first array's header/data
    raw[i:i + 8] = b"\xff" * 8
    path.write_bytes(bytes(raw))
    with pytest.raises(nn.CheckpointError, match="model.npz"):
        nn.load_state(path)


class _Trap:
    def __reduce__(self):
        return (open, (str(_Trap.marker), "w"))


def test_loading_never_unpickles(tmp_path):
    _Trap.marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open("w.npy", "w") as f:
            np.lib.format.write_array(f, np.array([_Trap()], dtype=object), allow_pickle=True)
    with pytest.raises(nn.CheckpointError, match="evil.npz"):
        nn.load_state(path)
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps(_Trap()))
    with pytest.raises(nn.CheckpointError, match="plain.pkl"):
        nn.load_state(plain)
    assert not _Trap.marker.exists()


def test_single_npy_file_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "a.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(nn.CheckpointError, match="single array"):
        nn.load_state(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        nn.load_state(tmp_path / "nope.npz")


def test_checkpoint_from_another_architecture_names_the_mismatch(tmp_path):
    path = tmp_path / "small.npz"
    nn.MLP(2, [3, 1], seed=0).save(path)
    big = nn.MLP(2, [4, 1], seed=0)
    with pytest.raises(nn.CheckpointError, match="missing key.*layers.0.neurons.3"):
        big.load(path)


# --------------------------------------------------------------------------------------
# Keys that would not round-trip are refused at save time (issue 13 item 7)
# --------------------------------------------------------------------------------------
import tempfile  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402

from hypothesis import example, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ODD_KEYS = st.one_of(
    st.text(min_size=1, max_size=12),
    st.text(st.characters(codec=None, categories=None), min_size=1, max_size=12),  # surrogates too
    st.lists(st.sampled_from(["a", "\x00", "\ud800", "/", "\\", ".", ".npy", "..", "é", " "]),
             min_size=1, max_size=6).map("".join),
)


def _save_or_refuse(state):
    """save_state then load_state in a fresh folder: the loaded dict, or the refusal."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "s.npz")
        try:
            nn.save_state(state, path)
        except nn.CheckpointError as e:
            assert str(e).startswith("save:")
            assert os.listdir(d) == []                            # nothing half-written
            return e
        return nn.load_state(path)


@given(st.dictionaries(ODD_KEYS, st.integers(-5, 5), min_size=1, max_size=4))
@example({"a": 1, "a.npy": 2})                                    # np.load mixes these two up
@example({"w\x00tail": 1})
@example({"\udcff": 1})
def test_every_key_round_trips_exactly_or_is_refused_at_save(state):
    state = {k: np.array([v, -v], dtype=np.int16) for k, v in state.items()}
    out = _save_or_refuse(state)
    if isinstance(out, nn.CheckpointError):
        bad = [k for k in state if "\x00" in k or any(0xD800 <= ord(c) <= 0xDFFF for c in k)]
        assert bad, f"refused a key that round-trips: {out}"
        return
    assert list(out) == list(state)
    for k in state:
        np.testing.assert_array_equal(out[k], state[k])
        assert out[k].dtype == state[k].dtype


@pytest.mark.parametrize("key, ok, words", [
    ("k" * 65531, True, ()),                                      # exactly the zip limit
    ("k" * 65532, False, ("65532 bytes", "at most 65531")),
    ("é" * 40000, False, ("80000 bytes",)),                       # counted in UTF-8 bytes
    ("w\x00b", False, ("NUL",)),
    ("x\ud800", False, ("not valid Unicode",)),
    ("", False, ("non-empty",)),
], ids=["at-zip-limit", "one-byte-over", "utf8-bytes-count", "nul", "surrogate", "empty"])
def test_key_limits_are_clear_errors_naming_the_key(tmp_path, key, ok, words):
    path = tmp_path / "s.npz"
    state = {key: np.zeros(2)}
    if ok:
        nn.save_state(state, path)
        assert list(nn.load_state(path)) == [key]
        return
    with pytest.raises(nn.CheckpointError) as info:
        nn.save_state(state, path)
    msg = str(info.value)
    assert msg.startswith("save:") and all(w in msg for w in words)
    assert not path.exists()


# --------------------------------------------------------------------------------------
# Loading is bounded (issue 13 item 8): zip bombs and lying headers are refused before
# their memory is allocated
# --------------------------------------------------------------------------------------
def _deflated_zeros(path, nbytes, name="w.npy"):
    """A compressed .npz whose one array is `nbytes` zero bytes (about nbytes/1000 on disk),
    written in chunks so the test itself never holds it."""
    header = {"descr": "|u1", "fortran_order": False, "shape": (nbytes,)}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open(name, "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, header)
            chunk = bytes(1 << 20)
            left = nbytes
            while left:
                f.write(chunk[:min(left, len(chunk))])
                left -= min(left, len(chunk))


def _lying_header(path, shape=(2 ** 40,)):
    """A stored member whose .npy header claims `shape` of float64 but holds 8 bytes."""
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open("w.npy", "w") as f:
            np.lib.format.write_array_header_1_0(
                f, {"descr": "<f8", "fortran_order": False, "shape": shape})
            f.write(b"\0" * 8)


def _peak_while(fn):
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("bomb", ["deflate", "lying header", "lying 2-d header"])
def test_a_checkpoint_that_would_expand_is_refused_without_allocating(tmp_path, bomb):
    path = tmp_path / "bomb.npz"
    if bomb == "deflate":
        _deflated_zeros(path, 100 * 2 ** 20)                      # 100 MiB from ~100 KB
        assert path.stat().st_size < 2 ** 20
        words = ("over the limit", "max_bytes")
    else:
        _lying_header(path, (2 ** 40,) if bomb == "lying header" else (2 ** 20, 2 ** 20))
        words = ("declares shape", "holds 8 bytes")
    errors = []

    def load():
        with pytest.raises(nn.CheckpointError) as info:
            nn.load_state(path)
        errors.append(str(info.value))
    assert _peak_while(load) < 8 * 2 ** 20
    assert "bomb.npz" in errors[0] and all(w in errors[0] for w in words)


def test_max_bytes_sets_the_limit_both_ways(tmp_path):
    path = tmp_path / "zeros.npz"
    _deflated_zeros(path, 3 * 2 ** 20)
    with pytest.raises(nn.CheckpointError, match="over the limit of 1,000,000 bytes"):
        nn.load_state(path, max_bytes=1_000_000)
    assert nn.load_state(path)["w"].shape == (3 * 2 ** 20,)       # under the default floor
    small = tmp_path / "small.npz"
    model = nn.Linear(3, 2, seed=0)
    model.save(small)
    with pytest.raises(nn.CheckpointError, match="max_bytes"):
        nn.Linear(3, 2).load(small, max_bytes=10)
    with pytest.raises(ValueError, match="max_bytes"):
        nn.load_state(small, max_bytes=-1)
    assert nn.LOAD_MAX_RATIO * small.stat().st_size < nn.LOAD_MIN_BYTES


def test_a_normal_load_allocates_about_the_data_once(tmp_path):
    path = tmp_path / "big.npz"
    nn.save_state({"w": np.ones(2 ** 21)}, path)                   # 16 MiB of float64
    out = []
    peak = _peak_while(lambda: out.append(nn.load_state(path)))
    assert peak < 1.5 * 16 * 2 ** 20
    assert out[0]["w"].sum() == 2 ** 21 and out[0]["w"].flags.writeable


def test_compressed_and_fortran_order_npz_files_load(tmp_path):
    path = tmp_path / "c.npz"
    a = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    np.savez_compressed(path, a=a, b=np.float32(2.5))
    out = nn.load_state(path)
    np.testing.assert_array_equal(out["a"], a)
    assert out["b"].dtype == np.float32 and out["b"].shape == ()


# --------------------------------------------------------------------------------------
# Members that are not arrays, duplicates (issue 13, smaller ones)
# --------------------------------------------------------------------------------------
def test_a_member_that_is_not_an_npy_array_is_refused_at_load(tmp_path):
    path = tmp_path / "mixed.npz"
    nn.Linear(2, 2, seed=0).save(path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("notes.txt", b"trained on tuesday")
    with pytest.raises(nn.CheckpointError, match="mixed.npz.*'notes.txt' is not a named .npy"):
        nn.load_state(path)


def test_a_duplicated_member_is_refused(tmp_path):
    path = tmp_path / "dup.npz"
    with zipfile.ZipFile(path, "w") as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")                           # zipfile warns; we refuse
        for v in (1.0, 2.0):
            with zf.open("w.npy", "w") as f:
                np.lib.format.write_array(f, np.array(v))
    with pytest.raises(nn.CheckpointError, match="'w.npy' appears twice"):
        nn.load_state(path)
