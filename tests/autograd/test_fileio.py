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


# --------------------------------------------------------------------------------------
# Every writer x what is already at the path (issue 13 item 6): symlinks are written
# through to their target, special files are refused and left as they were, regular
# files are replaced and keep their permissions.
# --------------------------------------------------------------------------------------
import socket  # noqa: E402

import numpy as np  # noqa: E402

from gradviz import Value, nn, viz  # noqa: E402
from gradviz.autograd.fileio import SpecialFileError  # noqa: E402


def _graph():
    a = Value(2.0, label="a")
    y = a * a
    y.backward()
    return y


def _w_write_atomic(p):
    write_atomic(p, b"fresh bytes")


def _w_save(p):
    nn.Linear(2, 3, seed=0).save(p)


def _w_render_dot(p):
    viz.render(_graph(), p)


def _w_render_svg(p):
    viz.render(_graph(), p)


def _w_steps_html(p):
    viz.steps_html(_graph(), p)


def _w_write_idx(p):
    nn.data.write_idx(p, np.arange(6, dtype=np.uint8).reshape(2, 3))


WRITERS = {  # name -> (writer, file name it is given)
    "write_atomic": (_w_write_atomic, "out.bin"),
    "Module.save": (_w_save, "model.npz"),
    "render .dot": (_w_render_dot, "g.dot"),
    "render .svg": (_w_render_svg, "g.svg"),
    "steps_html": (_w_steps_html, "steps.html"),
    "write_idx": (_w_write_idx, "x.idx"),
}

OLD = b"old content"


def _make_fifo(p):
    os.mkfifo(p)


def _make_device(p):  # the device numbers of /dev/null (we run as root in the test set-up)
    os.mknod(p, stat.S_IFCHR | 0o666, os.makedev(1, 3))


def _make_socket(p):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(p))
    return s


SPECIAL = {"fifo": (_make_fifo, stat.S_ISFIFO), "device": (_make_device, stat.S_ISCHR),
           "socket": (_make_socket, stat.S_ISSOCK)}
KIND_WORDS = {"fifo": "named pipe (FIFO)", "device": "character device", "socket": "socket"}


@pytest.mark.parametrize("writer", list(WRITERS))
@pytest.mark.parametrize("kind", list(SPECIAL))
@pytest.mark.parametrize("via_link", [False, True], ids=["direct", "via-symlink"])
def test_writers_refuse_special_files_and_leave_them(tmp_path, writer, kind, via_link):
    write, name = WRITERS[writer]
    make, is_kind = SPECIAL[kind]
    (tmp_path / "elsewhere").mkdir()
    special = tmp_path / "elsewhere" / name if via_link else tmp_path / name
    keep = make(special)
    try:
        path = tmp_path / name
        if via_link:
            os.symlink(special, path)
        with pytest.raises(SpecialFileError) as info:
            write(path)
        assert isinstance(info.value, OSError)
        msg = str(info.value)
        assert str(path) in msg and "not a regular file" in msg
        assert KIND_WORDS[kind] in msg
        assert is_kind(os.stat(special).st_mode)                     # still what it was
        assert os.path.islink(path) == via_link
        assert sorted(os.listdir(tmp_path)) == sorted(["elsewhere", name])
        assert os.listdir(tmp_path / "elsewhere") == ([name] if via_link else [])
    finally:
        if keep is not None:
            keep.close()


def test_dev_null_through_a_symlink_is_refused(tmp_path):
    path = tmp_path / "model.npz"
    os.symlink("/dev/null", path)
    with pytest.raises(SpecialFileError, match="character device"):
        nn.Linear(2, 2).save(path)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode) and os.readlink(path) == "/dev/null"


def _regular(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(OLD)
    os.chmod(p, 0o640)
    return p, p


def _link(tmp_path, name):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / name
    target.write_bytes(OLD)
    os.chmod(target, 0o600)
    os.symlink(os.path.join("real", name), tmp_path / name)       # relative link
    return tmp_path / name, target


def _chain(tmp_path, name):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / name
    target.write_bytes(OLD)
    os.chmod(target, 0o604)
    os.symlink(target, tmp_path / ("mid" + name))
    os.symlink(tmp_path / ("mid" + name), tmp_path / name)
    return tmp_path / name, target


def _dangling(tmp_path, name):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / name
    os.symlink(target, tmp_path / name)
    return tmp_path / name, target


PLACES = {"regular file": _regular, "symlink": _link, "symlink chain": _chain,
          "dangling symlink": _dangling}


@pytest.mark.parametrize("writer", list(WRITERS))
@pytest.mark.parametrize("place", list(PLACES))
def test_writers_write_through_symlinks_and_keep_permissions(tmp_path, writer, place):
    write, name = WRITERS[writer]
    path, target = PLACES[place](tmp_path, name)
    existed = target.exists()
    mode = stat.S_IMODE(os.stat(target).st_mode) if existed else None
    links = {p: os.readlink(p) for p in tmp_path.iterdir() if p.is_symlink()}
    old = os.umask(0o022)
    try:
        write(path)
    finally:
        os.umask(old)
    assert target.read_bytes() != OLD and target.stat().st_size > 0
    assert stat.S_ISREG(os.lstat(target).st_mode)
    assert {p: os.readlink(p) for p in tmp_path.iterdir() if p.is_symlink()} == links
    assert path.read_bytes() == target.read_bytes()
    assert stat.S_IMODE(os.stat(target).st_mode) == (mode if existed else 0o644)
    for d in {tmp_path, target.parent}:                               # no temp files left
        assert not [f for f in os.listdir(d) if f.startswith(".")]


def test_a_symlink_loop_and_a_directory_are_clear_errors(tmp_path):
    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    with pytest.raises(OSError, match="loop"):
        write_atomic(tmp_path / "a", b"x")
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError, match="directory"):
        write_atomic(tmp_path / "d", b"x")
    assert sorted(os.listdir(tmp_path)) == ["a", "b", "d"] and os.listdir(tmp_path / "d") == []


def test_a_missing_directory_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no directory .*nowhere"):
        write_atomic(tmp_path / "nowhere" / "x.bin", b"x")
    os.symlink(tmp_path / "gone" / "x.bin", tmp_path / "link")
    with pytest.raises(FileNotFoundError, match="no directory .*gone.*symlink"):
        write_atomic(tmp_path / "link", b"x")
    assert os.listdir(tmp_path) == ["link"]
