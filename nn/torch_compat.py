"""Moving a model to PyTorch and back: state dicts in ``torch.nn`` layouts.

gradviz's :class:`~nn.Linear` computes ``x @ weight + bias`` and stores
``weight`` as ``(in_features, out_features)``; ``torch.nn.Linear`` computes
``x @ weight.T + bias`` and stores ``weight`` as ``(out_features,
in_features)``. Everything else lines up: ``bias`` is ``(out_features,)`` in
both, :class:`~nn.Conv2d`'s weight is ``(out, in/groups, kh, kw)`` in both,
``Sequential`` children are named ``"0"``, ``"1"``, ... in both, and a
module's attribute names are its keys in both (``self.fc1 = Linear(...)``
gives ``"fc1.weight"``, as ``self.fc1 = torch.nn.Linear(...)`` does). So the
conversion transposes Linear weights; :class:`~nn.PReLU`'s ``alpha`` is
``torch.nn.PReLU``'s ``weight``.

Both functions take and give plain numpy arrays (dtype kept; no torch import
here). Give them the gradviz model when you have it: the conversion then
knows every module, checks every shape and refuses modules with no
``torch.nn`` counterpart (the Value-based ``Neuron``/``Layer``/``MLP``, a
learnable ``Swish``). Without a model, a bare mapping is converted by name:
every 2-d array named ``weight`` or ``*.weight`` is transposed, the rest is
copied.

>>> import numpy as np, torch
>>> from gradviz import Tensor, nn
>>> from gradviz.nn.torch_compat import from_torch_state, to_torch_state
>>> ours = nn.Sequential(nn.Linear(4, 8, seed=0), nn.ReLU(), nn.Linear(8, 3, seed=1))
>>> theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(),
...                              torch.nn.Linear(8, 3))
>>> state = to_torch_state(ours)                      # numpy arrays, torch's layout
>>> state["0.weight"].shape, ours[0].weight.shape
((8, 4), (4, 8))
>>> _ = theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
>>> x = np.ones((2, 4), np.float32)
>>> bool(np.allclose(ours(Tensor(x)).data, theirs(torch.from_numpy(x)).detach().numpy()))
True
>>> _ = ours.load_state_dict(from_torch_state(theirs.state_dict(), ours))   # and back
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from .conv import Conv2d
from .layers import Linear, PReLU
from .module import CheckpointError, Module, key_mismatch

__all__ = ["to_torch_state", "from_torch_state"]


def _array(value: Any, key: str) -> np.ndarray:
    """A numpy copy of ``value`` (a torch tensor is read through its own
    ``detach().cpu().numpy()``, so torch need not be imported here)."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    arr = np.array(value, copy=True)
    if arr.dtype.kind not in "biuf":
        raise CheckpointError(f"torch state: {key!r} has dtype {arr.dtype}, expected a real "
                              "number array")
    return arr


def _plan(model: Module) -> list[tuple[str, str, str, Module]]:
    """``(our key, torch key, kind, module)`` for every parameter of ``model``,
    in state-dict order; kind is "T" (transposed) or "=" (as is). A module
    that owns parameters and has no torch.nn counterpart is refused."""
    if not isinstance(model, Module):
        raise TypeError(f"torch_compat: expected a gradviz nn.Module, got {type(model).__name__}")
    modules = dict(model.named_modules())
    plan: list[tuple[str, str, str, Module]] = []
    for key in model.state_dict():
        owner, _, attr = key.rpartition(".")
        mod = modules.get(owner)
        pre = owner + "." if owner else ""
        if isinstance(mod, Linear) and attr in ("weight", "bias"):
            plan.append((key, key, "T" if attr == "weight" else "=", mod))
        elif isinstance(mod, PReLU) and attr == "alpha":
            plan.append((key, pre + "weight", "=", mod))
        elif isinstance(mod, Conv2d) and attr in ("weight", "bias"):  # torch's layout already
            plan.append((key, key, "=", mod))
        else:
            where = f"module {owner!r}" if owner else "the model itself"
            what = type(mod).__name__ if mod is not None else "?"
            raise TypeError(
                f"torch_compat: {where} ({what}) holds the parameter {key!r} and has no "
                "torch.nn counterpart; only Linear, Conv2d and PReLU parameters convert (inside "
                "any Sequential or module tree)")
    return plan


def to_torch_state(model_or_state: Module | Mapping[str, Any]) -> OrderedDict[str, np.ndarray]:
    """The state of a gradviz model (or a state dict from ``state_dict()`` /
    ``nn.load_state``) in ``torch.nn``'s layout: name -> numpy array, ready for
    ``torch_model.load_state_dict({k: torch.from_numpy(v) ...})``. Linear
    weights become ``(out, in)``; PReLU's ``alpha`` becomes ``weight``
    (model form only). Arrays are copies, C-contiguous."""
    out: OrderedDict[str, np.ndarray] = OrderedDict()
    if isinstance(model_or_state, Module):
        state = model_or_state.state_dict()
        for ours, theirs, kind, _ in _plan(model_or_state):
            arr = state[ours]
            out[theirs] = np.ascontiguousarray(arr.T if kind == "T" else arr)
        return out
    if not isinstance(model_or_state, Mapping):
        raise TypeError("to_torch_state: expected a gradviz nn.Module or a mapping of "
                        f"name -> array, got {type(model_or_state).__name__}")
    for key, value in model_or_state.items():
        arr = _array(value, key)
        out[key] = np.ascontiguousarray(arr.T) if _is_weight(key, arr) else arr
    return out


def from_torch_state(torch_state: Mapping[str, Any], model: Module | None = None
                     ) -> OrderedDict[str, np.ndarray]:
    """A ``torch.nn`` state dict (values: torch tensors or numpy arrays) in
    gradviz's layout, for ``model.load_state_dict(...)``.

    With ``model``: every parameter the model has must be there with the
    shape torch would give it, and nothing else (a missing or unexpected key
    or a wrong shape is a :class:`~nn.CheckpointError` naming it); Linear
    weights ``(out, in)`` become ``(in, out)``, PReLU's ``weight`` becomes
    ``alpha``. Without: every 2-d ``weight`` / ``*.weight`` is transposed."""
    if not isinstance(torch_state, Mapping):
        raise TypeError("from_torch_state: expected a mapping of name -> tensor or array, "
                        f"got {type(torch_state).__name__}")
    out: OrderedDict[str, np.ndarray] = OrderedDict()
    if model is None:
        for key, value in torch_state.items():
            arr = _array(value, key)
            out[key] = np.ascontiguousarray(arr.T) if _is_weight(key, arr) else arr
        return out
    plan = _plan(model)
    ours_state = model.state_dict()
    wanted = {theirs for _, theirs, _, _ in plan}
    missing = [theirs for _, theirs, _, _ in plan if theirs not in torch_state]
    unexpected = [k for k in torch_state if k not in wanted]
    if missing or unexpected:
        raise key_mismatch(f"from_torch_state into {type(model).__name__}", missing, unexpected)
    for ours, theirs, kind, _ in plan:
        arr = _array(torch_state[theirs], theirs)
        want = ours_state[ours].shape
        torch_shape = want[::-1] if kind == "T" else want
        if arr.shape != torch_shape:
            raise CheckpointError(f"from_torch_state: {theirs!r} has shape {arr.shape}, "
                                  f"expected {torch_shape} (torch layout) for {ours!r}")
        out[ours] = np.ascontiguousarray(arr.T) if kind == "T" else arr
    return out


def _is_weight(key: str, arr: np.ndarray) -> bool:
    return arr.ndim == 2 and (key == "weight" or key.endswith(".weight"))
