"""Atomic writes: all or nothing, no temp files left, normal permissions."""
import os
import stat

import pytest

from gradviz.autograd.fileio import atomic_open, atomic_path, write_atomic


def test_write_creates_file_with_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        p = write_atomic(tmp_path / "a.txt", "héllo")
    finally:
        os.umask(old)
    assert open(p, encoding="utf-8").read() == "héllo"
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o644
    assert os.listdir(tmp_path) == ["a.txt"]


def test_failure_mid_write_keeps_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "model.npz"
    target.write_bytes(b"old")

    def chunks():
        yield b"new part"
        raise RuntimeError("disk on fire")
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_atomic(target, chunks())
    assert target.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_atomic_path_for_writers_that_take_a_name(tmp_path):
    target = tmp_path / "plot.png"
    with atomic_path(target, suffix=".png") as tmp:
        assert tmp.endswith(".png") and os.path.dirname(tmp) == str(tmp_path)
        assert not target.exists()
        with open(tmp, "wb") as f:
            f.write(b"png")
    assert target.read_bytes() == b"png"


def test_atomic_open_rejects_read_modes(tmp_path):
    with pytest.raises(ValueError, match="atomic_open"):
        with atomic_open(tmp_path / "x", "rb"):
            pass
