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
