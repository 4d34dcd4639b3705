"""Users' own ops, first class: :func:`define_op` (a row written like the
built-in ones) and :class:`Function` (PyTorch's shape, a hand-written
backward). Both become rows of the one table, so diagrams, the step-through,
``gradcheck``, ``grad(create_graph=True)``, the strategies of
:mod:`autograd.testing` and the op reference all know them.

:func:`apply` runs any row on nodes; every row is callable through it
(``OPS["tanh"](x)``, ``cube(x)``).
"""
from __future__ import annotations

import functools
import inspect
import keyword
import numbers
import types
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from . import ops as _ops
from .kernel import ARRAY, FLOAT, Kernel, check_grad_shape, forget, kernel
from .ops import OPS, ArrayMath, FloatMath, Op, register, sum_to_shape
from .tensor import Tensor, _floating, _plain
from .value import Value, _leaf
from .value import _record as _record_value

__all__ = ["define_op", "Function", "FunctionCtx", "apply", "where", "maximum", "minimum"]


# --------------------------------------------------------------------------
# Running a row on nodes
# --------------------------------------------------------------------------
def _inputs(op: Op, xs: tuple) -> tuple[str, tuple]:
    """("float" | "array", the inputs as nodes of one engine)."""
    n = len(xs)
    if (n == op.arity or (op.arity < 0 and n)) and xs[0].__class__ is Value and (
            n == 1 or (n == 2 and xs[1].__class__ is Value)):
        return "float", xs  # Values already (the common call, op(x) or op(x, y))
    if op.arity >= 0 and len(xs) != op.arity:
        hint = "" if not op.defaults or len(xs) <= op.arity else (
            f" (its constants are keywords: {op.key}(..., "
            + ", ".join(f"{k}={v!r}" for k, v in op.defaults.items()) + "))")
        raise TypeError(f"op {op.key!r} takes {op.arity} input{'s' if op.arity != 1 else ''}, "
                        f"got {len(xs)}{hint}")
    if not xs:
        raise TypeError(f"op {op.key!r}: needs at least one input")
    if any(isinstance(x, Tensor) or isinstance(x, np.ndarray) for x in xs):
        like = next(x for x in xs if isinstance(x, Tensor)) if any(
            isinstance(x, Tensor) for x in xs) else None
        out: list[Any] = []
        for i, x in enumerate(xs):
            if isinstance(x, Tensor):
                out.append(x)
            elif isinstance(x, Value):
                raise TypeError(f"op {op.key!r}: input {i} is a Value but another input is a "
                                f"Tensor (use one kind of node)")
            else:
                arr = np.asarray(x, dtype=like.data.dtype if like is not None else None)
                out.append(_plain(_floating(arr)))
        return "array", tuple(out)
    out = []
    for i, x in enumerate(xs):
        if isinstance(x, Value):
            out.append(x)
        elif not isinstance(x, bool) and isinstance(x, numbers.Real):
            out.append(_leaf(float(x)))
        else:
            raise TypeError(f"op {op.key!r}: input {i} must be a Value, a Tensor or a number, "
                            f"got {type(x).__name__}")
    return "float", tuple(out)


def _plain_kernel(op: Op, engine) -> Kernel:
    """The row's kernel without constants on ``engine``, kept on the row."""
    k = kernel(op.key, engine)
    op.__dict__[f"_{engine.name}_kernel"] = k
    return k


_NO_INPUT: Any = object()  # UnaryOp called with no input at all


class UnaryOp(Op):
    """A user's row with one input, a local derivative and no constants: the
    common user op (``softsign``, ``smooth_clamp``). Calling it on one Value
    or one floating Tensor goes straight to the node constructor, without
    :func:`apply`'s checks and conversions, so it costs about what a
    built-in op does; anything else goes through :func:`apply`. The row's
    fields are read on every call (a row changed in place is seen)."""

    _float_kernel: ClassVar[Kernel | None] = None  # the row's kernels, made on first use
    _array_kernel: ClassVar[Kernel | None] = None

    # Positional only: a **params dict made on every call cost 20-40 ns per
    # node. Such a row has no constants, so a keyword is refused by Python
    # itself, in the words of each row's own copy of this function
    # (_unary_row_class): "softsign() got an unexpected keyword argument".
    def __call__(self, x: Any = _NO_INPUT, /, *more: Any) -> Any:
        if not more:  # (one input)
            cls = x.__class__
            if cls is Value:
                out = self.forward(FloatMath, x.data)
                if out.__class__ is float:
                    return _record_value(out, self._float_kernel or _plain_kernel(self, FLOAT),
                                         (x,))
            elif cls is Tensor and x.data.dtype.kind == "f":
                d = x.data
                out = self.forward(ArrayMath, d)
                if out.__class__ is np.ndarray and out.dtype is d.dtype:
                    return x._record(out, self._array_kernel or _plain_kernel(self, ARRAY),
                                     (x,))
        if x is _NO_INPUT:
            return apply(self, *more)
        return apply(self, x, *more)


def _unary_row_class(name: str) -> type:
    """A subclass of UnaryOp for the row ``name`` alone, whose ``__call__``
    is a copy of UnaryOp's named ``name``, so that Python's own error for a
    keyword argument names the op."""
    call = UnaryOp.__call__
    named = types.FunctionType(call.__code__.replace(co_name=name, co_qualname=name),
                               call.__globals__, name, call.__defaults__, call.__closure__)
    return type("UnaryOp", (UnaryOp,), {"__call__": named, "__qualname__": "UnaryOp",
                                        "__module__": __name__})


def _bound_params(op: Op, params: dict) -> dict:
    """``params`` checked against the row's and completed with its defaults,
    in the row's order."""
    unknown = set(params) - set(op.params) - set(op.defaults)
    if unknown:
        raise TypeError(f"op {op.key!r}: unknown parameter{'s' if len(unknown) > 1 else ''} "
                        f"{', '.join(sorted(unknown))} (it takes: "
                        f"{', '.join(op.params) or 'none'})")
    spelled = set(params) - set(op.params)
    if spelled:  # a method's parameter the row holds differently (clip: min, max -> bounds)
        raise TypeError(f"op {op.key!r}: {', '.join(sorted(spelled))} "
                        f"{'is a parameter' if len(spelled) == 1 else 'are parameters'} of the "
                        f"method .{op.method}(); the row takes {', '.join(op.params)}")
    values = {**{k: v for k, v in op.defaults.items() if k in op.params}, **params}
    missing = [k for k in op.params if k not in values]
    if missing:
        raise TypeError(f"op {op.key!r}: missing parameter{'s' if len(missing) > 1 else ''} "
                        f"{', '.join(missing)}")
    ordered = {k: values[k] for k in op.params}
    for pname, pval in ordered.items():
        if isinstance(pval, (Value, Tensor)):
            raise TypeError(f"op {op.key!r}: parameter {pname} is a constant of the op, got a "
                            f"{type(pval).__name__}; pass a number (a gradient for {pname} needs "
                            f"it to be an input of the op: define_op with forward(M, a, {pname}))")
    return ordered


def apply(op: Op, *xs: Any, **params: Any):
    """Run table row ``op`` on nodes (Values, or Tensors that broadcast) with
    constant ``params``; the result is recorded like any built-in op's."""
    if not params and not op.params:  # the common call, op(x): nothing to bind
        ordered: dict = {}
    else:
        ordered = _bound_params(op, params)
    engine_name, nodes = _inputs(op, xs)
    engine = FLOAT if engine_name == "float" else ARRAY
    k = kernel(op.key, engine, **ordered)
    datas = [n.data for n in nodes]
    if engine is ARRAY and op.deriv is not None:
        datas = [_floating(d) for d in datas]
        try:
            np.broadcast_shapes(*[d.shape for d in datas])
        except ValueError:
            raise ValueError(f"op {op.key!r}: input shapes "
                             f"{', '.join(str(d.shape) for d in datas)} do not broadcast") from None
    if op.user and engine is FLOAT:
        try:
            out = k.forward(*datas)
        except Exception as e:  # e.g. an op written for arrays (x.sum(axis=-1)) given Values
            raise TypeError(f"op {op.key!r}: its forward failed on Values (plain floats): "
                            f"{type(e).__name__}: {e}" + (
                                "; an op written for arrays is called on Tensors"
                                if isinstance(e, (AttributeError, TypeError, IndexError))
                                else "")) from e
    else:
        out = k.forward(*datas)
    if engine is FLOAT:
        try:
            out = float(out)
        except (TypeError, ValueError):
            raise TypeError(f"op {op.key!r}: forward on floats returned "
                            f"{type(out).__name__}, not a number") from None
        return _record_value(out, k, nodes)
    out = np.asarray(out)
    if op.deriv is not None:
        out = out.astype(np.result_type(*datas), copy=False)
    return nodes[0]._record(out, k, nodes)


_ops.APPLY.append(apply)


# --------------------------------------------------------------------------
# where / maximum / minimum on either engine
# --------------------------------------------------------------------------
def _is_array_like(x) -> bool:
    return isinstance(x, (Tensor, np.ndarray, list, tuple))


def where(cond, a, b):
    """``a`` where ``cond`` holds, else ``b``. Tensors (or arrays): elementwise
    with numpy broadcasting; Values: ``cond`` a bool. No gradient flows to
    ``cond``; the gradient goes to the branch taken."""
    from .tensor import where as tensor_where
    if any(_is_array_like(x) for x in (cond, a, b)):
        return tensor_where(cond, a, b)
    if isinstance(cond, Value):
        cond = cond.data != 0.0
    if not isinstance(cond, (bool, np.bool_, numbers.Real)):
        raise TypeError(f"where: cond must be a bool for Values, got {type(cond).__name__}")
    av = a if isinstance(a, Value) else _leaf(float(a))
    bv = b if isinstance(b, Value) else _leaf(float(b))
    return OPS["select"](av, bv, mask=1.0 if cond else 0.0)


def _pairwise(name: str, a, b):
    """``a.name(b)``, with whichever operand is a node first."""
    if isinstance(a, (Value, Tensor)):
        return getattr(a, name)(b)
    if isinstance(b, (Value, Tensor)):
        return getattr(b, name)(a)
    raise TypeError(f"{name}: needs a Value or a Tensor, got {type(a).__name__} and "
                    f"{type(b).__name__}")


def maximum(a, b):
    """Elementwise larger of ``a`` and ``b`` (ties share the gradient)."""
    return _pairwise("maximum", a, b)


def minimum(a, b):
    """Elementwise smaller of ``a`` and ``b`` (ties share the gradient)."""
    return _pairwise("minimum", a, b)


# --------------------------------------------------------------------------
# define_op
# --------------------------------------------------------------------------
def _arity_of(forward: Callable, n_params: int, name: str) -> int:
    try:
        sig = inspect.signature(forward)
    except (TypeError, ValueError):
        raise TypeError(f"define_op({name!r}): forward must be a Python function "
                        f"forward(M, *inputs)") from None
    ps = list(sig.parameters.values())
    if any(p.kind is p.VAR_POSITIONAL for p in ps):
        return -1
    positional = [p for p in ps if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    n = len(positional) - 1 - n_params
    if n < 1:
        if n_params:
            raise TypeError(f"define_op({name!r}): forward takes {len(positional)} arguments, "
                            f"but it must take the math namespace M, at least one input and "
                            f"then the {n_params} parameter{'s' if n_params != 1 else ''} "
                            f"(forward(M, a, ..., param, ...))")
        raise TypeError(f"define_op({name!r}): forward must take the math namespace M and at "
                        f"least one input: forward(M, a, ...)")
    return n


def _norm_domain(domain, name: str) -> tuple:
    """Per input, a tuple of (lo, hi) intervals; an input may be given as one
    interval ``(lo, hi)`` or as several ``((lo, hi), (lo2, hi2))``."""
    out = []
    for i, d in enumerate(domain):
        try:
            if len(d) == 2 and all(isinstance(v, numbers.Real) for v in d):
                d = (d,)
            ivs = tuple((float(lo), float(hi)) for lo, hi in d)
        except (TypeError, ValueError):
            raise ValueError(f"define_op({name!r}): domain[{i}] must be an interval (lo, hi) or "
                             f"a tuple of intervals, got {d!r}") from None
        for lo, hi in ivs:
            if not lo < hi:
                raise ValueError(f"define_op({name!r}): domain[{i}] has an empty interval "
                                 f"({lo:g}, {hi:g})")
        out.append(ivs)
    return tuple(out)


def _sample_point(domain: tuple, arity: int) -> list[float]:
    pts = []
    for i in range(arity):
        ivs = domain[i] if i < len(domain) else ((-1.0, 1.0),)
        lo, hi = ivs[0]
        pts.append(lo + (hi - lo) * 0.37)
    return pts


def _check_signatures(name: str, arity: int, params: dict, forward: Callable,
                      deriv: Callable | None, vjp: Callable | None) -> None:
    """Each function takes what it will be called with (the op's name in the error)."""
    xs = [f"x{i + 1}" for i in range(arity)]
    ps = list(params)
    calls: list[tuple[str, Callable, str, tuple, dict]] = [
        ("forward", forward, f"forward(M, {', '.join(xs + ps)})", (None, *xs, *ps), {})]
    if deriv is not None:
        calls.append(("deriv", deriv, f"deriv(M, out, {', '.join(xs + ps)})",
                      (None, None, *xs, *ps), {}))
    if vjp is not None:
        calls.append(("vjp", vjp, f"vjp(M, g, out, {', '.join(xs)}"
                      + "".join(f", {p}=..." for p in ps) + ")",
                      (None, None, None, *xs), dict.fromkeys(ps)))
    for what, fn, spelled, args, kwargs in calls:
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):  # a builtin without a signature: called as it is
            continue
        try:
            sig.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"define_op({name!r}): {what} is called as {spelled} "
                            f"({len(xs)} input{'s' if len(xs) != 1 else ''}"
                            + (f", parameter{'s' if len(ps) != 1 else ''} {', '.join(ps)}"
                               if ps else "") + f"), but {e}") from None


def _check_sample(name: str, x: list, out: Any, ds: Any, domain: tuple) -> None:
    """forward and deriv at the sample point of the domain, on floats: numbers
    (an array there would become a Value's gradient), and forward finite
    (the domain is where tests draw inputs)."""
    try:
        value = float(out)
    except (TypeError, ValueError):
        raise TypeError(f"define_op({name!r}): forward on floats at the sample point {x} "
                        f"returned a {type(out).__name__}, not a number") from None
    if not np.isfinite(value):
        where = "its domain" if domain else "the default domain (-2, 2)"
        raise ValueError(f"define_op({name!r}): forward is {value} at {x}, a point of "
                         f"{where}; give domain= (per input, the intervals where the op is "
                         "defined and smooth)")
    for i, d in enumerate(ds):
        if d is _ops.ONE:
            continue
        number = (isinstance(d, (int, float)) and not isinstance(d, bool)) or (
            isinstance(d, (np.ndarray, np.generic)) and np.ndim(d) == 0)
        if not number:
            shape = f" of shape {np.shape(d)}" if hasattr(d, "shape") else ""
            raise TypeError(f"define_op({name!r}): deriv returned a {type(d).__name__}{shape} "
                            f"for input {i} on floats, not a number: write the derivative with "
                            "M's functions and the inputs, so that it is a number on floats and "
                            "an array of the inputs' shape on arrays")
        if not np.isfinite(float(d)):  # forward is finite there: the op is smooth there
            raise ValueError(f"define_op({name!r}): deriv for input {i} is {float(d)} at {x}, "
                             f"where forward is {value}: a derivative of an op smooth on its "
                             f"domain is finite there (or give domain= where the op is smooth)")


def define_op(name: str, *, forward: Callable, deriv: Callable | None = None,
              vjp: Callable | None = None, rule: tuple | list | str = (), domain: tuple = (),
              kink: Callable | None = None, params: dict | None = None,
              symbol: str | None = None, doc: str = "") -> Op:
    """Add an op of your own to the table and return it (callable on Values
    and Tensors).

    ``forward(M, *inputs, *params)`` computes the value with the math
    namespace ``M`` (``M.exp``, ``M.log``, ``M.tanh``... and ``+ - * / **``),
    so the same text runs on floats, arrays and nodes. Give exactly one of
    ``deriv(M, out, *inputs, *params)`` -- elementwise ops: the local
    derivative per input -- or ``vjp(M, g, out, *inputs, **params)`` -- any
    op: the gradient per input from the upstream ``g``. ``rule``: text per
    input for diagrams (``"d/da = 3a²"``); ``domain``: per input, the
    intervals where the op is smooth (tests draw points there); ``kink``:
    per input, whether it sits on a non-differentiable point; ``params``:
    constant parameters, name -> default value.
    """
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"define_op: name must be an identifier that is not a Python keyword "
                         f"(the expression language calls the op by it), got {name!r}")
    existing = OPS.get(name)
    if existing is not None and not existing.user:
        raise ValueError(f"define_op({name!r}): the name clashes with a built-in op; "
                         f"choose another")
    if (deriv is None) == (vjp is None):
        raise ValueError(f"define_op({name!r}): give exactly one of deriv= (elementwise: the "
                         f"local derivative per input) or vjp= (the gradient per input)")
    if not callable(forward) or not callable(deriv or vjp):
        raise TypeError(f"define_op({name!r}): forward and {'deriv' if deriv else 'vjp'} "
                        f"must be functions")
    if params is not None and not isinstance(params, dict):
        raise TypeError(f"define_op({name!r}): params must be a dict of constant names and "
                        f"their defaults (params={{'alpha': 1.0}}), got "
                        f"{type(params).__name__}")
    params = dict(params or {})
    arity = _arity_of(forward, len(params), name)
    rule = (rule,) if isinstance(rule, str) else tuple(rule)
    domain = _norm_domain(domain, name)
    if domain and arity >= 0 and len(domain) != arity:
        raise ValueError(f"define_op({name!r}): domain has {len(domain)} entries for "
                         f"{arity} input{'s' if arity != 1 else ''} (one list of intervals "
                         f"per input)")
    if rule and arity >= 0 and len(rule) != arity:
        raise ValueError(f"define_op({name!r}): rule has {len(rule)} texts for {arity} "
                         f"input{'s' if arity != 1 else ''}")
    if kink is not None and not callable(kink):
        raise TypeError(f"define_op({name!r}): kink must be a function of the inputs")
    row = _unary_row_class(name) if arity == 1 and deriv is not None and not params else Op
    op = row(name, name, arity, forward, deriv=deriv, vjp=vjp,
            rule=rule or tuple(f"d/dx{i + 1}" for i in range(max(arity, 1))),
            domain=domain or tuple(((-2.0, 2.0),) for _ in range(max(arity, 1))),
            kink=kink, params={k: (v,) for k, v in params.items()}, symbol=symbol or "",
            doc=doc or f"user op {name}", defaults=dict(params), user=True)
    if arity >= 0:
        _check_signatures(name, arity, params, forward, deriv, vjp)
    if deriv is not None and arity >= 0:
        x = _sample_point(op.domain, arity)
        try:
            out = forward(FloatMath, *x, *params.values())
            ds = deriv(FloatMath, out, *x, *params.values())
        except Exception as e:  # any failure is reported with the op's name
            raise ValueError(f"define_op({name!r}): forward/deriv failed at the sample point "
                             f"{x}: {type(e).__name__}: {e}") from e
        if not isinstance(ds, (tuple, list)):
            raise ValueError(f"define_op({name!r}): deriv returned a {type(ds).__name__}, not "
                             f"a tuple of derivatives (one per input: return (d,) for one)")
        if len(ds) != arity:
            raise ValueError(f"define_op({name!r}): deriv returned {len(ds)} derivative"
                             f"{'s' if len(ds) != 1 else ''} for {arity} input"
                             f"{'s' if arity != 1 else ''} (return a tuple, one per input)")
        _check_sample(name, x, out, ds, domain)
        if kink is not None:
            _check_kink(name, kink, x, params, arity)
    if existing is not None:
        del OPS[name]
        forget(name)
    return register(op)


def _check_kink(name: str, kink: Callable, x: Sequence, params: dict, arity: int) -> None:
    """``kink`` must run at the sample point, called as gradient checking
    calls it (``kink(*inputs, *params)``, else ``kink(*inputs)``), and give
    one flag, or a tuple of one flag per input."""
    try:
        try:
            flags = kink(*x, *params.values())
        except TypeError:
            flags = kink(*x)
    except Exception as e:
        raise ValueError(f"define_op({name!r}): kink failed at the sample point {x}: "
                         f"{type(e).__name__}: {e} (kink takes the inputs, one argument each, "
                         f"then the constants, and says where the op has a kink)") from e
    if isinstance(flags, (tuple, list)) and len(flags) != arity:
        raise ValueError(f"define_op({name!r}): kink returned {len(flags)} flags for {arity} "
                         f"input{'s' if arity != 1 else ''} (one per input)")


# --------------------------------------------------------------------------
# Function: PyTorch's shape
# --------------------------------------------------------------------------
class FunctionCtx:
    """What ``forward`` saves for ``backward``: ``save_for_backward(*arrays)``
    then ``saved_tensors`` (empty if nothing was saved); any other attribute
    may be set too. ``needs_input_grad``, as in PyTorch: per input, whether
    it wants a gradient (a backward may skip the work for one that does not)."""

    saved_tensors: tuple = ()
    needs_input_grad: tuple = ()

    def save_for_backward(self, *arrays: Any) -> None:
        self.saved_tensors = tuple(arrays)


@functools.cache
def _forward_params(cls) -> tuple[str, ...]:
    """The positional parameter names of ``cls.forward`` after ctx (read once
    per class: ``inspect.signature`` costs more than a small op)."""
    try:
        ps = list(inspect.signature(cls.forward).parameters.values())[1:]
    except (TypeError, ValueError):
        ps = []
    return tuple(p.name for p in ps if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


def _arg_names(cls, n: int) -> list[str]:
    """The names of ``forward``'s ``n`` arguments after ctx (``arg1``... for
    a ``*args`` forward): how a constant argument is shown and passed back."""
    names = _forward_params(cls)
    return [names[i] if i < len(names) else f"arg{i}" for i in range(n)]


def _merged(xs: tuple, consts: dict, names: list[str]) -> list:
    """forward's arguments: the nodes' data ``xs`` in order, with the
    constant arguments ``consts`` (by name) in their places."""
    it = iter(xs)
    return [consts[nm] if nm in consts else next(it) for nm in names]


def _function_rule(cls) -> Callable:
    name = cls.__name__

    def rule(node, g):
        ps = node._parents
        consts = node._op.params
        grads = cls.backward(node._ctx, g)
        n_args = len(ps) + len(consts)
        if isinstance(grads, list) and len(grads) == n_args != 1:
            raise TypeError(f"{name}.backward returned a list of {n_args} gradients: return a "
                            f"tuple (one per argument of forward), as PyTorch expects")
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != n_args:
            raise ValueError(f"{name}.backward returned {len(grads)} gradient"
                             f"{'s' if len(grads) != 1 else ''} for {n_args} argument"
                             f"{'s' if n_args != 1 else ''} of forward (one per argument, None "
                             f"for one without a gradient)")
        if consts:  # a constant argument (an axis, a flag) takes no gradient: None, as in PyTorch
            names = _arg_names(cls, n_args)
            for i, (nm, c) in enumerate(zip(names, grads)):
                if nm in consts and c is not None:
                    raise ValueError(f"{name}.backward returned a gradient for argument {i} "
                                     f"({nm}={consts[nm]!r}), which is not a Value or a Tensor: "
                                     f"return None there")
            grads = tuple(c for nm, c in zip(names, grads) if nm not in consts)
        out = []
        for i, (p, c) in enumerate(zip(ps, grads)):
            if c is None or (isinstance(p, Tensor) and not p.requires_grad):
                out.append(None if isinstance(p, Tensor) else 0.0)
                continue
            if isinstance(p, Tensor):
                c = np.asarray(c)
                if c.shape != p.data.shape:  # the output's shape: summed back, as PyTorch does
                    check_grad_shape(f"{name}.backward", i, c, p.data, node.data)
                    c = sum_to_shape(c, p.data.shape)
                c = c.astype(p.data.dtype, copy=False)
            else:
                try:
                    c = float(c)
                except (TypeError, ValueError):
                    raise ValueError(f"{name}.backward: the gradient for input {i} must be a "
                                     f"number, got {type(c).__name__}") from None
            out.append(c)
        return tuple(out)
    return rule


def _no_second_order(cls) -> Callable:
    def vjp(M, g, out, *xs, **consts):
        raise NotImplementedError(
            f"{cls.__name__} is an autograd.Function: its hand-written backward gives first "
            "derivatives only, so grad(create_graph=True) and second-order checks cannot go "
            "through it (write it with define_op, its rule in M's functions, for second "
            "derivatives)")
    return vjp


class Function:
    """A custom op with a hand-written backward, as in PyTorch::

        class Clamp01(autograd.Function):
            @staticmethod
            def forward(ctx, x):                  # plain floats / numpy arrays
                ctx.save_for_backward(x)
                return np.clip(x, 0.0, 1.0)
            @staticmethod
            def backward(ctx, g):                 # upstream gradient -> one per input
                (x,) = ctx.saved_tensors
                return g * ((x > 0) & (x < 1))

        y = Clamp01.apply(t)                      # a node with op "Clamp01"

    The class becomes a table row named after it, with the rule text
    "custom backward".
    """

    # Each subclass's own table row, made on its first apply; read from the class's own
    # __dict__ so that a subclass of a Function subclass does not inherit its parent's row.
    _gradviz_row: ClassVar[Op]

    @staticmethod
    def forward(ctx: FunctionCtx, *inputs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def _row(cls) -> Op:
        row = cls.__dict__.get("_gradviz_row")
        if row is None:
            key = f"{cls.__name__}@{cls.__module__}.{cls.__qualname__}"
            if key in OPS:
                del OPS[key]
                forget(key)
            rule = _function_rule(cls)
            name = cls.__name__
            if any(not op.user and name in (op.key, op.name) for op in OPS.values()):
                name = f"{name} (Function)"  # not to be taken for the built-in op in reports
            row = register(Op(key, name, -1,
                              lambda M, *xs, **consts: cls.forward(
                                  FunctionCtx(),
                                  *_merged(xs, consts, _arg_names(cls, len(xs) + len(consts)))),
                              vjp=_no_second_order(cls), rule=("custom backward",),
                              doc=(cls.__doc__ or "").strip().split("\n")[0]
                              or f"custom Function {cls.__name__}",
                              fast={"float": rule, "array": rule}, user=True))
            cls._gradviz_row = row
        return row

    @classmethod
    def apply(cls, *inputs: Any):
        if cls.forward is Function.forward or cls.backward is Function.backward:
            raise TypeError(f"{cls.__name__}: define both forward(ctx, ...) and "
                            f"backward(ctx, ...) as static methods")
        row = cls._row()
        # As in PyTorch, only nodes (Values, Tensors) are the op's inputs; any other
        # argument (an axis, a flag, a name) reaches forward as it is, a constant.
        names = _arg_names(cls, len(inputs))
        consts = {nm: x for nm, x in zip(names, inputs) if not isinstance(x, (Value, Tensor))}
        if len(consts) == len(inputs):
            raise TypeError(f"{cls.__name__}.apply: no Value or Tensor among its arguments "
                            f"(a Function needs at least one input to differentiate)")
        engine_name, nodes = _inputs(row, tuple(x for x in inputs
                                                if isinstance(x, (Value, Tensor))))
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(x, (Value, Tensor)) and x.requires_grad
                                     for x in inputs)
        out = cls.forward(ctx, *_merged(tuple(n.data for n in nodes), consts, names))
        if isinstance(out, (tuple, list)):
            raise TypeError(f"{cls.__name__}.forward returned {len(out)} outputs; a Function "
                            f"here returns one array or number (write one Function per output)")
        if engine_name == "float":
            out = _record_value(float(out), Kernel(row, FLOAT, consts), nodes)
        else:
            out = nodes[0]._record(np.asarray(out), Kernel(row, ARRAY, consts), nodes)
        if out._parents:
            out._ctx = ctx
        return out


class ImportOpsError(Exception):
    """``--import`` failed: one line naming the module or file and why."""


def import_ops(spec: str) -> None:
    """Run the user's code that defines ops (``define_op``, ``Function``), as
    the command lines' ``--import`` does: ``spec`` is a .py file path (run as
    a script) or a module name (imported, found from the current directory
    too, as ``python -m`` finds it). Any failure of the user's code (its
    ``sys.exit`` too) is an :class:`ImportOpsError` of one line, the
    exception its cause; ^C is not caught."""
    import importlib
    import os
    import runpy
    import sys
    try:
        if spec.endswith(".py") or "/" in spec or os.sep in spec:
            if not os.path.isfile(spec):
                raise ImportOpsError(f"--import {spec}: no such file")
            runpy.run_path(spec, run_name="gradviz_user_ops")
            return
        here = os.getcwd()
        sys.path.insert(0, here)
        try:
            importlib.import_module(spec)
        finally:
            sys.path.remove(here)
    except (ImportOpsError, KeyboardInterrupt):
        raise
    except BaseException as e:  # the user's code: SystemExit included
        raise ImportOpsError(_import_error_text(spec, e)) from e


def _import_error_text(spec: str, e: BaseException) -> str:
    if isinstance(e, SyntaxError):
        return f"--import {spec}: syntax error" + (f" (line {e.lineno})" if e.lineno else "") \
            + f": {e.msg}"
    if isinstance(e, ModuleNotFoundError) and e.name == spec.split(".")[0]:
        return (f"--import {spec}: no module named {e.name!r} (give a module name importable "
                "from here, or a path to a .py file)")
    return f"--import {spec}: {type(e).__name__}: {' '.join(str(e).split()) or '(no message)'}"


# --------------------------------------------------------------------------
# Applying any row by its public spelling (the checkers and gradviz check)
# --------------------------------------------------------------------------
def apply_op(op: Op, args: Sequence[Any], params: dict | None = None):
    """Apply table op ``op`` to nodes (Value or Tensor): every row is callable
    (and so is a user's op from ``define_op``); the built-in structural ops
    whose rows need normalised parameters go through their public spelling."""
    params = params or {}
    spelled = _SPELLED.get(getattr(op, "key", ""))
    if spelled is not None and OPS.get(op.key) is op:
        return spelled(*args, **params)
    return op(*args, **params)


def _softmax(kind):
    def run(x, **params):
        from . import functional
        return getattr(functional, kind)(x, **params)
    return run


_SPELLED = {"sum": lambda x, **p: x.sum(**p), "mean": lambda x, **p: x.mean(**p),
            "max": lambda x, **p: x.max(**p), "min": lambda x, **p: x.min(**p),
            "matmul": lambda a, b: a @ b,
            "softmax": _softmax("softmax"), "log_softmax": _softmax("log_softmax")}
