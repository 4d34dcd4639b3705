"""nn.Module: the base of every layer.

A module's parameters and sub-modules are found by looking at its attributes,
in the order they were assigned (no registration calls, no ``super().__init__``
needed):

* a :class:`~autograd.Value` is a parameter;
* a ``Tensor`` with ``requires_grad=True`` is a parameter;
* a list or tuple of Values (a neuron's weights) is a group of parameters;
* a :class:`Module` is a sub-module, and so is each item of a list or tuple of
  Modules (named ``attr.0``, ``attr.1``, ...).

Attributes whose names start with ``_`` are private and never traversed.

Checkpoints. ``state_dict()`` maps names to numpy arrays: a Tensor parameter
gives a copy of its data (dtype kept); a Value gives a 0-d float64 array; a
list of Values gives a 1-d float64 array (one entry per Value), so a scalar
neuron's state is ``{"w": array([...]), "b": array(0.5)}``. ``save(path)``
writes an ``.npz`` file atomically (a temp file in the same directory, then
``os.replace``: a crash mid-save leaves the old file intact);
``nn.load_state(path)`` reads one without ever unpickling, and bounds the
memory a load may take (``LOAD_MIN_BYTES``, ``LOAD_MAX_RATIO``). Keys that
would not come back unchanged (a NUL, a lone surrogate, over 65,531 bytes)
are refused at save time.
"""
from __future__ import annotations

import numbers
import os
import zipfile
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from ..autograd import Tensor, Value
from ..autograd.fileio import atomic_open
from .hooks import current_module_call_hook

__all__ = ["Module", "CheckpointError", "load_state", "save_state", "LOAD_MIN_BYTES",
           "LOAD_MAX_RATIO"]


class CheckpointError(ValueError):
    """A state dict or checkpoint file that does not fit (missing or
    unexpected key, wrong shape, unreadable or corrupt file)."""


def key_mismatch(what: str, missing: list, unexpected: list) -> CheckpointError:
    """The error for a state whose keys are not the model's: ``what`` (the
    operation and model), then the missing and the unexpected keys."""
    parts = []
    if missing:
        parts.append("missing key(s) " + ", ".join(map(repr, missing)))
    if unexpected:
        parts.append("unexpected key(s) " + ", ".join(map(repr, unexpected)))
    return CheckpointError(f"{what}: " + "; ".join(parts))


def _is_int(x: object) -> bool:
    """An integer (Python or numpy) that is not a bool: what arguments such as widths,
    axes and seeds must be. A plain bool result, not a TypeGuard: mypy does not know
    that int is a numbers.Integral, so narrowing an ``int`` argument to Integral would
    make the code after the check look unreachable, and leave it unchecked."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _is_real(x: object) -> bool:
    """A real number (Python or numpy) that is not a bool; see :func:`_is_int`."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _tensor_type():
    return Tensor


def _is_tensor_param(x: Any) -> bool:
    return isinstance(x, Tensor) and x.requires_grad


def _classify(x: Any) -> str | None:
    """'module', 'modules', 'param', 'params' (Values), 'tensors' or None (not
    traversed)."""
    if isinstance(x, Module):
        return "module"
    if isinstance(x, Value) or _is_tensor_param(x):
        return "param"
    if isinstance(x, (list, tuple)) and x:
        if all(isinstance(v, Module) for v in x):
            return "modules"
        if all(isinstance(v, Value) for v in x):
            return "params"
        if all(_is_tensor_param(v) for v in x):
            return "tensors"  # a plain list of Tensor parameters: each its own state key
    return None


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


class Module:
    """Base class of layers, losses and models (PyTorch's vocabulary).

    Subclasses set their parameters and sub-modules as attributes and define
    ``forward``; calling the module calls ``forward``.
    """

    training: bool = True

    # --- calling ---------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        """``forward``, recorded as a scope named after this module so that
        ``viz.draw(..., collapse="module")`` can box the nodes it made."""
        call = current_module_call_hook()
        if call is None:
            return self.forward(*args, **kwargs)
        return call(self, args, kwargs)

    # --- traversal -----------------------------------------------------------
    def _items(self) -> Iterator[tuple[str, str, Any]]:
        """(attribute name, kind, object) for the traversed attributes."""
        for name, x in vars(self).items():
            if name.startswith("_"):
                continue
            kind = _classify(x)
            if kind is not None:
                yield name, kind, x

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules: ``(name, module)``; list items as ``attr.i``."""
        for name, kind, x in self._items():
            if kind == "module":
                yield name, x
            elif kind == "modules":
                for i, m in enumerate(x):
                    yield f"{name}.{i}", m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """Every module in the tree, parents first (``""`` is this one).
        A module reachable twice is listed once. No recursion."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, mod = stack.pop()
            if id(mod) in seen:
                continue
            seen.add(id(mod))
            yield name, mod
            kids = list(mod.named_children())
            for child_name, child in reversed(kids):
                stack.append((_join(name, child_name), child))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def _slots(self) -> Iterator[tuple[str, str, Any]]:
        """(state key, kind, object) for every parameter slot, in order;
        kind is 'param' (a Value or Tensor) or 'params' (a list of Values)."""
        for mname, mod in self.named_modules():
            for name, kind, x in mod._items():
                if kind in ("param", "params"):
                    yield _join(mname, name), kind, x
                elif kind == "tensors":
                    for i, t in enumerate(x):
                        yield _join(mname, f"{name}.{i}"), "param", t

    def named_parameters(self) -> Iterator[tuple[str, Any]]:
        """``(name, parameter)`` for every parameter, each once; the Values of
        a list are named ``attr.0``, ``attr.1``, ..."""
        seen: set[int] = set()
        for key, kind, x in self._slots():
            items = [(key, x)] if kind == "param" else [(f"{key}.{i}", v) for i, v in enumerate(x)]
            for name, p in items:
                if id(p) not in seen:
                    seen.add(id(p))
                    yield name, p

    def parameters(self) -> list:
        """Every parameter (Values and Tensors), each once, in a fixed order."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """The number of scalar parameters (a Tensor counts its elements)."""
        return sum(1 if isinstance(p, Value) else int(p.data.size) for p in self.parameters())

    def zero_grad(self) -> None:
        """Value grads become 0.0, Tensor grads None (as PyTorch's set_to_none)."""
        for p in self.parameters():
            if isinstance(p, Value):
                p.grad = 0.0
            else:
                p.grad = None

    # --- modes ---------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    # --- state -----------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """name -> numpy array (copies): Values as 0-d float64 arrays, lists
        of Values as 1-d float64 arrays, Tensors with their own dtype."""
        out: OrderedDict[str, np.ndarray] = OrderedDict()
        for key, kind, x in self._slots():
            if kind == "params":
                out[key] = np.array([v.data for v in x], dtype=np.float64)
            elif isinstance(x, Value):
                out[key] = np.array(x.data, dtype=np.float64)
            else:
                out[key] = np.array(x.data, copy=True)
        return out

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True):
        """Copy ``state`` into the parameters (in place).

        Everything is checked before anything changes: with ``strict`` a
        missing or unexpected key is a :class:`CheckpointError` naming it; a
        wrong shape or a non-numeric array always is. Returns
        ``(missing_keys, unexpected_keys)`` (both empty when strict).
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping of name -> array, "
                            f"got {type(state).__name__}")
        slots = {key: (kind, x) for key, kind, x in self._slots()}
        missing = [k for k in slots if k not in state]
        unexpected = [k for k in state if k not in slots]
        if strict and (missing or unexpected):
            raise key_mismatch(f"load_state_dict into {type(self).__name__}", missing,
                               unexpected)
        plan = []
        for key, (kind, x) in slots.items():
            if key not in state:
                continue
            arr = np.asarray(state[key])
            if arr.dtype.kind not in "biuf":
                raise CheckpointError(f"load_state_dict: {key!r} has dtype {arr.dtype}, "
                                      "expected a real number array")
            if kind == "params":
                shape: tuple = (len(x),)
            elif isinstance(x, Value):
                shape = ()
            else:
                shape = tuple(x.data.shape)
            if arr.shape != shape:
                raise CheckpointError(f"load_state_dict: {key!r} has shape {arr.shape}, "
                                      f"expected {shape}")
            plan.append((kind, x, arr))
        for kind, x, arr in plan:
            if kind == "params":
                for v, d in zip(x, arr.astype(np.float64).tolist()):
                    v.data = d
            elif isinstance(x, Value):
                x.data = float(arr)
            else:
                x.data[...] = arr
        return missing, unexpected

    def save(self, path: str | os.PathLike) -> str:
        """Write ``state_dict()`` to ``path`` as ``.npz``, atomically."""
        return save_state(self.state_dict(), path)

    def load(self, path: str | os.PathLike, strict: bool = True, *,
             max_bytes: int | None = None):
        """``load_state_dict(nn.load_state(path, max_bytes=max_bytes))``."""
        return self.load_state_dict(load_state(path, max_bytes=max_bytes), strict=strict)

    # --- printing ----------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr."""
        return ""

    def __repr__(self) -> str:
        head = f"{type(self).__name__}({self.extra_repr()})"
        kids = list(self.named_children())
        if not kids:
            return head
        lines = [head + ":"]
        i = 0
        while i < len(kids):  # collapse runs of identical list items
            name, mod = kids[i]
            text = repr(mod)
            j = i + 1
            while (j < len(kids) and "." in name and kids[j][0].rsplit(".", 1)[0]
                   == name.rsplit(".", 1)[0] and repr(kids[j][1]) == text):
                j += 1
            if j - i > 1:
                base = name.rsplit(".", 1)[0]
                label = f"{base}.{name.rsplit('.', 1)[1]}-{kids[j - 1][0].rsplit('.', 1)[1]}"
                text = f"{j - i} x {text}"
            else:
                label = name
            text = text.replace("\n", "\n  ")
            lines.append(f"  ({label}): {text}")
            i = j
        return "\n".join(lines)


# --------------------------------------------------------------------------
# Checkpoint files
# --------------------------------------------------------------------------
#: What a load may allocate by default: the larger of this many bytes and
#: ``LOAD_MAX_RATIO`` times the file's size (see :func:`load_state`).
LOAD_MIN_BYTES = 64 * 2 ** 20
LOAD_MAX_RATIO = 32
_ZIP_NAME_MAX = 65535          # the zip format's 16-bit file name length


def _check_key(key: Any) -> str:
    """Refuse a state key that would not come back unchanged from the file."""
    if not isinstance(key, str) or not key:
        raise CheckpointError(f"save: state keys must be non-empty str, got {key!r}")
    if "\0" in key:
        raise CheckpointError(f"save: key {key[:80]!r} contains a NUL character, which a zip "
                              "member name cannot hold (it would be cut off there on load)")
    try:
        encoded = (key + ".npy").encode("utf-8")
    except UnicodeEncodeError as e:
        raise CheckpointError(f"save: key {key[:80]!r} is not valid Unicode text ({e.reason} "
                              f"at position {e.start}); it cannot be stored as a file name"
                              ) from None
    if len(encoded) > _ZIP_NAME_MAX:
        raise CheckpointError(f"save: key {key[:40]!r}... is {len(encoded) - 4} bytes long in "
                              f"UTF-8; a checkpoint key may be at most {_ZIP_NAME_MAX - 4} bytes")
    return key


def save_state(state: Mapping[str, Any], path: str | os.PathLike) -> str:
    """Write a mapping name -> array to ``path`` as an uncompressed ``.npz``
    (readable by ``np.load``), atomically: the data goes to a temp file beside
    the target, which then replaces it (a symlink is written through to its
    target; a FIFO or device is refused, see :mod:`autograd.fileio`). On any
    error the temp file is removed and an existing ``path`` is left as it was.
    Keys must be non-empty text that a zip file name holds unchanged: no NUL,
    valid Unicode (no lone surrogates), at most 65,531 bytes in UTF-8; anything
    else is a :class:`CheckpointError` before anything is written. Object
    arrays are refused (nothing is pickled). Returns ``path`` as a str."""
    path = os.fspath(path)
    if not isinstance(state, Mapping):
        raise TypeError(f"save: expected a mapping of name -> array, got {type(state).__name__}")
    arrays = []
    for key, value in state.items():
        _check_key(key)
        arr = np.asanyarray(value)
        if arr.dtype.hasobject:
            raise CheckpointError(f"save: {key!r} is an object array; only numeric arrays "
                                  "can be saved")
        arrays.append((key, arr))
    with atomic_open(path, "wb") as f:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
            for key, arr in arrays:
                with zf.open(key + ".npy", "w", force_zip64=True) as out:
                    np.lib.format.write_array(out, arr, allow_pickle=False)
    return path


def _load_limit(path: str, max_bytes: int | None) -> int:
    if max_bytes is None:
        return max(LOAD_MIN_BYTES, LOAD_MAX_RATIO * os.path.getsize(path))
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, np.integer)) \
            or max_bytes < 0:
        raise ValueError(f"load_state: max_bytes must be an int >= 0 or None, got {max_bytes!r}")
    return int(max_bytes)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One ``.npy`` member, its header checked against its size before any
    array memory is allocated."""
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise CheckpointError(f"unsupported .npy format version {version}")
        if dtype.hasobject:
            raise CheckpointError(f"{info.filename!r} holds Python objects (dtype {dtype}); "
                                  "checkpoints are never unpickled")
        count = 1
        for d in shape:
            count *= int(d)
        nbytes = count * dtype.itemsize
        header = f.tell()
        if header + nbytes != info.file_size:
            raise CheckpointError(
                f"{info.filename!r} declares shape {tuple(shape)} of {dtype} ({nbytes} bytes) "
                f"but holds {info.file_size - header} bytes of data")
        buf = bytearray(nbytes)
        view = memoryview(buf)
        got = 0
        while got < nbytes:          # in chunks: zipfile's read(n) would hold two more copies
            chunk = f.read(min(nbytes - got, 1 << 20))
            if not chunk:
                break
            view[got:got + len(chunk)] = chunk
            got += len(chunk)
        view.release()
        if got != nbytes:
            raise CheckpointError(f"{info.filename!r} is truncated: {got} of {nbytes} bytes")
    return np.frombuffer(buf, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def load_state(path: str | os.PathLike, *, max_bytes: int | None = None
               ) -> OrderedDict[str, np.ndarray]:
    """Read a checkpoint written by ``Module.save`` (any ``.npz`` of arrays,
    stored or compressed): name -> array. Never unpickles.

    Bounded: the arrays' total size (as the archive's directory declares it,
    and each array's header, checked before its memory is allocated) may be
    at most ``max_bytes``; by default the larger of :data:`LOAD_MIN_BYTES`
    (64 MiB) and :data:`LOAD_MAX_RATIO` (32) times the file's size, so a small
    compressed file cannot expand into gigabytes (a zip bomb). Pass a larger
    ``max_bytes`` for a legitimately highly compressed checkpoint.

    A file that is not a valid ``.npz`` of arrays (truncated, corrupt, a
    pickle, an ``.npy``, a member that is not an ``.npy`` array, a duplicate
    member, over the limit) is a :class:`CheckpointError` naming it, raised
    before anything is returned; a missing file a FileNotFoundError."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_state: no checkpoint file {path!r}")
    limit = _load_limit(path, max_bytes)
    try:
        with open(path, "rb") as f:
            if f.read(6) == b"\x93NUMPY":
                raise CheckpointError("it holds a single array (an .npy file), not an .npz "
                                      "archive")
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            seen: set[str] = set()
            for info in infos:
                name = info.filename
                if not name.endswith(".npy") or len(name) == 4:
                    raise CheckpointError(f"member {name!r} is not a named .npy array")
                if name in seen:
                    raise CheckpointError(f"member {name!r} appears twice")
                seen.add(name)
            total = sum(info.file_size for info in infos)
            if total > limit:
                raise CheckpointError(
                    f"its arrays would take {total:,} bytes, over the limit of {limit:,} bytes "
                    f"for a {os.path.getsize(path):,}-byte file (pass max_bytes= to load_state "
                    "to allow more)")
            state = OrderedDict((info.filename[:-4], _read_member(zf, info)) for info in infos)
    except (IsADirectoryError, PermissionError):
        raise
    except CheckpointError as e:
        raise CheckpointError(f"load_state: cannot read checkpoint {path!r}: {e}") from None
    except Exception as e:
        raise CheckpointError(f"load_state: cannot read checkpoint {path!r}: "
                              f"not a valid .npz file ({type(e).__name__}: {e})") from e
    return state
