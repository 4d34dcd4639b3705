"""A small expression language for the ``gradviz`` command line.

    price = 15; count = 2; tax = 1.1; total = price * count * tax

Statements are separated by ``;`` or new lines (``#`` starts a comment). Each
is ``name = expression`` (a final bare expression is allowed too). Expressions may use
numbers, names assigned earlier, ``+ - * / **``, unary minus/plus, parentheses, and calls of
the op table's functions (``tanh(x)``, ``sigmoid(x)``, ``leaky_relu(x, 0.2)``
...: see :data:`FUNCTIONS`). The graph is the one the same lines build in
Python: ``name = 15`` makes a leaf :class:`autograd.Value` labelled ``name``
(an input), while a number inside an expression is a plain Python float, so
``x * 3``, ``2 ** x`` or ``x + 1`` is one node with the constant inside the op
(no leaf, no gradient for the 3). ``name = <expr>`` labels the result, and an
unnamed intermediate result is labelled with its source text (``price *
count``) when that is short. The program's output is the last statement.

Names follow the nodes: a name assigned again names a new node, shown as
``x₁`` (then ``x₂``...), and so is a second node with the same source text
(``exp(x) * exp(x)``: ``exp(x)`` and ``exp(x)₁``; a longer text is bracketed
first, ``x*w + x*w``: ``x*w`` and ``(x*w)₁``); a name that only renames a
node (``y = x``, ``y = +x``: the same node, as in Python) joins its label,
newest first (``y = x``). There are no built-in constants (``pi``, ``e``): a
name needs a value, from an assignment or from ``inputs`` (the command
line's ``NAME=VALUE``).

A name may end in subscript or superscript digits and primes (``x₁``, ``w²``,
``θ′``), as on a blackboard and as the tool itself names a node assigned again;
the diagram, the step page and the printed gradients show it as typed.

The text is parsed with Python's :mod:`ast` and checked against a whitelist
before anything is computed; nothing is ever passed to ``eval``. Anything
else (attributes, subscripts, strings, lambdas, keywords other than a
function's parameter, ``__import__``...) is an :class:`ExprError` that
quotes the offending part with a caret under it.
"""
from __future__ import annotations

import ast
import keyword
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from ..autograd import Value
from ..autograd.ops import OPS, FloatMath

__all__ = ["ExprError", "build", "parse_inputs", "FUNCTIONS", "functions", "MAX_LENGTH",
           "MAX_PROGRAM"]

#: The longest statement, in characters (each is parsed on its own, by Python's parser).
MAX_LENGTH = 20_000
#: The longest program, in characters: tens of thousands of statements, a graph far
#: bigger than a diagram shows whole (it is drawn collapsed) but one a step page can hold.
MAX_PROGRAM = 1_000_000
#: Intermediate results are labelled with their source text up to this length.
LABEL_MAX = 24


class ExprError(ValueError):
    """An expression the language does not allow; the message points at it."""


def _functions() -> dict[str, tuple[Callable, tuple[tuple[str, float], ...]]]:
    """name -> (function of a Value and numbers, ((param, default), ...)),
    from the op table: every built-in one-input op with a method, spelled
    as its row says (method name, parameters and their defaults)."""
    out: dict[str, tuple[Callable, tuple]] = {}
    for op in OPS.values():
        if op.deriv is None or op.arity != 1 or not op.method or op.user:
            continue
        if not hasattr(Value, op.method):
            continue
        out[op.method] = ((lambda n: lambda v, *a: getattr(v, n)(*a))(op.method),
                          tuple(op.defaults.items()))
    return out


#: The callable functions: name -> (implementation, ((parameter, default), ...)).
FUNCTIONS = _functions()


def functions() -> dict[str, tuple[Callable, tuple[tuple[str, float], ...]]]:
    """:data:`FUNCTIONS` and, in this process, the user's own ops
    (``autograd.define_op``; ``f(x, y, param)`` for one with two inputs and
    a parameter), by name: a graph that ``autograd.testing`` writes in this
    language (a ``check_op`` failure's minimal graph) can be built again
    with :func:`build`. The ``gradviz`` command, another process, knows the
    built-in ones and those of the modules or files given with
    ``--import``. A function's number of inputs is its ``arity`` attribute
    (1 when it has none)."""
    out = dict(FUNCTIONS)
    for op in OPS.values():
        if op.callable_by_name and op.key not in out:
            out[op.key] = (_user_call(op), tuple(op.defaults.items()))
    return out


def _user_call(op: Any) -> Callable:
    k, names = op.arity, tuple(op.defaults)

    def call(*args: Any) -> Any:
        return op(*args[:k], **dict(zip(names, args[k:])))
    call.arity = k  # type: ignore[attr-defined]
    return call


def _arity(fn: Callable) -> int:
    return getattr(fn, "arity", 1)

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b,
}


def _chars(text: str, byte_col: int) -> int:
    """``ast`` column offsets count UTF-8 bytes; this is the character column."""
    return len(text.encode("utf-8")[:byte_col].decode("utf-8", "ignore"))


def _caret(line: str, c0: int, c1: int, width: int = 100) -> str:
    """``line`` with ``^`` under columns c0..c1, cut to a window around them."""
    start = max(0, min(c0 - 20, len(line) - width))
    shown = line[start:start + width]
    pre = "..." if start > 0 else ""
    post = "..." if start + width < len(line) else ""
    c0, c1 = c0 - start, min(c1 - start, len(shown))
    return f"\n  {pre}{shown}{post}\n  {' ' * (len(pre) + c0)}{'^' * max(1, c1 - c0)}"


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Name):
            return f"a call of {f.id!r}"
        return "a call of something that is not a plain function name"
    if isinstance(node, ast.Attribute):
        return f"attribute access ('.{node.attr}')"
    if isinstance(node, ast.Constant):
        return f"the constant {node.value!r} (only numbers are allowed)"
    if isinstance(node, ast.BinOp):
        return f"the operator {type(node.op).__name__}"
    if isinstance(node, ast.UnaryOp):
        return f"the unary operator {type(node.op).__name__}"
    return f"{type(node).__name__} syntax"


class _Checker:
    """Checks one statement. ``src`` is the statement's text; it starts at
    character ``col`` of line ``lineno`` (1-based) of the program, whose text
    is ``line``: messages put their caret under the program's own line."""

    def __init__(self, src: str, line: str | None = None, lineno: int = 1, col: int = 0,
                 multiline: bool = False, funcs: Mapping | None = None):
        self.funcs = FUNCTIONS if funcs is None else funcs  # name -> (function, params)
        self.src = src
        self.line = src if line is None else line
        self.lineno, self.col, self.multiline = lineno, col, multiline

    def span(self, node: ast.AST) -> tuple[int, int]:
        """Character columns of ``node`` in the statement's text."""
        c0 = _chars(self.src, getattr(node, "col_offset", 0))
        end = getattr(node, "end_col_offset", None)
        if getattr(node, "end_lineno", 1) != getattr(node, "lineno", 1) or end is None:
            return c0, len(self.src)
        return c0, max(c0 + 1, _chars(self.src, end))

    def point(self, c0: int, c1: int) -> str:
        """Where columns c0..c1 of the statement are: the program's line with
        a caret under them (and the line and column when the program has
        several lines)."""
        at = (f" (line {self.lineno}, column {self.col + c0 + 1})" if self.multiline else "")
        return at + _caret(self.line, self.col + c0, self.col + c1)

    def fail(self, node: ast.AST, why: str) -> ExprError:
        return ExprError(f"not allowed: {why}{self.point(*self.span(node))}")

    def expr(self, root: ast.AST, names: set, later: frozenset = frozenset()) -> None:
        """Check an expression tree (iteratively: deep trees are fine);
        ``names`` have values here, ``later`` are assigned further on."""
        todo = [root]
        while todo:
            n = todo.pop()
            if isinstance(n, ast.Constant):
                if isinstance(n.value, bool) or not isinstance(n.value, (int, float)):
                    raise self.fail(n, _describe(n))
                try:
                    float(n.value)
                except OverflowError:
                    raise self.fail(n, "a number too large for a float") from None
            elif isinstance(n, ast.Name):
                if not isinstance(n.ctx, ast.Load):
                    raise self.fail(n, _describe(n))
                if n.id not in names:
                    raise ExprError(_no_value(n.id, n.id in later, n.id in self.funcs)
                                    + self.point(*self.span(n)))
            elif isinstance(n, ast.BinOp):
                if type(n.op) not in _BINOPS:
                    raise self.fail(n, _describe(n) + " (allowed: + - * / **)")
                todo += [n.left, n.right]
            elif isinstance(n, ast.UnaryOp):
                if not isinstance(n.op, (ast.USub, ast.UAdd)):
                    raise self.fail(n, _describe(n) + " (allowed: unary - and +)")
                todo.append(n.operand)
            elif isinstance(n, ast.Call):
                self.call(n)
                todo.extend(n.args[:_arity(self.funcs[cast(ast.Name, n.func).id][0])])
            elif isinstance(n, ast.Tuple) and (slip := self.decimal_comma(n)) is not None:
                raise slip
            else:
                raise self.fail(n, _describe(n))

    def decimal_comma(self, n: ast.Tuple) -> ExprError | None:
        """``tax = 1,1``: a comma between two numbers, typed as a decimal
        separator (Python reads a tuple); the error pointing at it, else None."""
        for a, b in zip(n.elts, n.elts[1:]):
            end, start = self.span(a)[1], self.span(b)[0]
            left = re.search(r"\d+$", self.src[:end])
            right = re.match(r"\d+", self.src[start:])
            comma = self.src.find(",", end, start)
            if left and right and comma >= 0:
                return ExprError(f"not allowed: a ',' between numbers: the decimal separator "
                                 f"is '.' ({left.group()}.{right.group()})"
                                 + self.point(comma, comma + 1))
        return None

    def call(self, n: ast.Call) -> None:
        if not isinstance(n.func, ast.Name):
            raise self.fail(n.func, _describe(n.func) + " (only calls of plain function names)")
        if n.func.id not in self.funcs:
            raise self.fail(n, _describe(n) + "; the functions are: " + ", ".join(self.funcs)
                            + " (an op of your own: define it with autograd.define_op; on the "
                              "command line, --import the file that does)")
        fn, params = self.funcs[n.func.id]
        k = _arity(fn)
        name = n.func.id
        if len(n.args) < k or len(n.args) > k + len(params):
            inputs = ["x"] if k == 1 else [f"x{i + 1}" for i in range(k)]
            sig = ", ".join(inputs + [p for p, _ in params])
            raise self.fail(n, f"{name} takes ({sig}), got {len(n.args)} positional argument(s)")
        for a in n.args[k:]:
            _number(a, self)
        allowed = {p for p, _ in params}
        positional = {p for p, _ in params[:len(n.args) - k]}
        seen: set = set()
        for kw in n.keywords:
            if kw.arg in positional or kw.arg in seen:
                raise self.fail(kw, f"{name} got its parameter {kw.arg!r} twice"
                                + (" (by position and by name)" if kw.arg in positional else ""))
            seen.add(kw.arg)
            if kw.arg not in allowed:
                raise self.fail(kw.value if kw.arg is None else kw,
                                f"the keyword {kw.arg!r} for {name}" +
                                (f" (allowed: {', '.join(sorted(allowed))})" if allowed else ""))
            _number(kw.value, self)


#: Constants people expect to be built in; the language has none (a name is
#: given its value by an assignment or an input), so the message says so.
_NOT_BUILT_IN = {"pi": "3.141592653589793", "e": "2.718281828459045",
                 "tau": "6.283185307179586"}


def _no_value(name: str, later: bool, is_function: bool) -> str:
    """Why ``name`` has no value where it is read, and how to give it one."""
    if is_function:
        return f"{name!r} is a function: call it, e.g. {name}(x)"
    if later:
        return (f"the name {name!r} is read before the statement that assigns it: "
                "move that statement earlier")
    example = _NOT_BUILT_IN.get(name, "2")
    why = (f"{name!r} is not a built-in constant (the language has none)" if name in
           _NOT_BUILT_IN else f"the name {name!r} has no value")
    power = re.fullmatch(r"(.+?)([⁰¹²³⁴⁵⁶⁷⁸⁹]+)", _shown(name))
    if power:  # x² typed for x squared: a name, as x₁ is
        base, exp = power.group(1), power.group(2).translate(_DIGITS)
        why += f" (for a power write {base}**{exp})"
    return (f"{why}: give it one after the expression ({name}={example}) or assign it "
            f"first ({name} = {example}; ...)")


_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


def _number(n: ast.AST, chk: _Checker) -> float:
    """A constant parameter: a number, possibly negated."""
    sign = 1.0
    while isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)):
        sign = -sign if isinstance(n.op, ast.USub) else sign
        n = n.operand
    if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)) \
            and not isinstance(n.value, bool):
        return sign * float(n.value)
    raise chk.fail(n, "a function parameter must be a number")


#: What a name may carry after Python's identifier characters (x₁, w², θ′), which
#: Python's parser does not take in a name...
_MARKS = "₀₁₂₃₄₅₆₇₈₉⁰¹²³⁴⁵⁶⁷⁸⁹′″‴"
#: ...so it reads each as a stand-in letter (CJK Extension A ideographs, which no
#: one types in a name and NFKC leaves alone), one character for one so that
#: columns and carets stay in place. Every name and message is spelled back.
_STAND_INS = "".join(chr(0x3400 + i) for i in range(len(_MARKS)))
_TO_PY = str.maketrans(_MARKS, _STAND_INS)
_FROM_PY = str.maketrans(_STAND_INS, _MARKS)
_MARKED_NAME = re.compile(rf"(?<![\w{_MARKS}])(?![{_MARKS}])[^\W\d][\w{_MARKS}]*")


def _pythonic(text: str) -> str:
    """``text`` with its names' marks as stand-ins (``x₁`` as a Python name);
    marks that are not in a name (``2²``) stay for the parser to refuse."""
    return _MARKED_NAME.sub(lambda m: m.group().translate(_TO_PY), text)


def _shown(name: str) -> str:
    """A name (or any text of the parser's) as the user spelled it."""
    return name.translate(_FROM_PY)


def _is_name(text: str) -> bool:
    """A name the language accepts: an identifier, possibly with marks."""
    return _pythonic(text).isidentifier() and not keyword.iskeyword(text) \
        and not text.startswith("__")


#: A number with a name stuck to it (2x, 0.5w₁): a product written as on paper.
_NUMBER_NAME = re.compile(r"(?<![\w.])(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)"
                          rf"((?![{_MARKS}])[^\W\d][\w{_MARKS}]*)")

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what Python's parser counts as a line break

#: Characters that look like operators (typed from maths, pasted from a page)
#: and what the language writes instead.
_LOOKALIKES = {"·": "* for multiplication", "⋅": "* for multiplication",
               "×": "* for multiplication", "∗": "* for multiplication",
               "÷": "/ for division", "−": "- (the ASCII minus)", "–": "- (the ASCII minus)",
               "^": "** for a power (x ** 2)"}
_LOOKALIKE = re.compile("[" + re.escape("".join(_LOOKALIKES)) + "]")
_ASSIGN_AFTER = re.compile(r"\s*[^\W\d]\w*\s*=(?!=)")


def _statement_comma(text: str) -> int | None:
    """The column of a ',' outside brackets followed by ``name =`` (``x=2,
    y=x*3``: two statements joined by a comma), else None."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0 and _ASSIGN_AFTER.match(text, i + 1):
            return i
    return None


def _python_hint(msg: str) -> str:
    """Python's syntax-error message without its advice about Python
    syntax the language does not have (``==``, ``:=``, ``,``)."""
    return re.sub(r"\.?\s*(Perhaps|Maybe) you .*$", "", msg) or "invalid syntax"


def _statements(src: str, funcs: Mapping | None = None) -> list[tuple[ast.stmt, _Checker]]:
    """Each ``;``- or line-separated statement parsed on its own (so ``a=1;
    b=2`` needs no care about indentation), with its place in the program
    for messages. ``#`` starts a comment (the language has no strings)."""
    if not isinstance(src, str):
        raise TypeError(f"expression must be a str, got {type(src).__name__}")
    if len(src) > MAX_PROGRAM:
        raise ExprError(f"the expression is {len(src):,} characters long; the limit is "
                        f"{MAX_PROGRAM:,}")
    lines = _LINE_BREAK.split(src)
    multiline = len([ln for ln in lines if ln.strip()]) > 1
    out = []
    for lineno, line in enumerate(lines, 1):
        code = line.split("#", 1)[0]
        start = 0
        for piece in code.split(";"):
            col = start + len(piece) - len(piece.lstrip())
            start += len(piece) + 1
            text = piece.strip()
            if not text:
                continue
            chk = _Checker(_pythonic(text), line, lineno, col, multiline, funcs)
            if len(text) > MAX_LENGTH:
                raise ExprError(f"a statement is {len(text):,} characters long; the limit is "
                                f"{MAX_LENGTH:,} (split it into several)"
                                + chk.point(0, min(len(text), 60)))
            lookalike = _LOOKALIKE.search(text)
            if lookalike:  # before parsing: Python reads x·3 as one name
                ch = lookalike.group()
                raise ExprError(f"syntax error: {ch!r} is not an operator here: write "
                                f"{_LOOKALIKES[ch]}"
                                + chk.point(lookalike.start(), lookalike.end()))
            try:
                tree = ast.parse(chk.src, mode="exec")
            except SyntaxError as e:
                comma = _statement_comma(text)
                if comma is not None:
                    raise ExprError("syntax error: statements are separated by ';' or new "
                                    "lines, not ','" + chk.point(comma, comma + 1)) from None
                c0 = max(0, (e.offset or 1) - 1) if (e.lineno or 1) == 1 else len(text)
                product = next((m for m in _NUMBER_NAME.finditer(text)
                                if m.start() <= c0 < m.end()), None) \
                    if "decimal literal" in e.msg else None
                if product:  # 2x: a product, as on paper
                    raise ExprError(f"syntax error: a number and a name side by side: write "
                                    f"{product.group(1)}*{product.group(2)} to multiply"
                                    + chk.point(*product.span())) from None
                raise ExprError(f"syntax error: {_shown(_python_hint(e.msg))}"
                                f"{chk.point(c0, c0 + 1)}") from None
            except (RecursionError, MemoryError, ValueError):
                raise ExprError(f"cannot parse {text[:60]!r}: nested too deeply or invalid"
                                + chk.point(0, min(len(text), 60))) from None
            if len(tree.body) != 1:  # pragma: no cover - a line without ; or newline
                raise chk.fail(tree.body[1], "one statement per ';'")
            out.append((tree.body[0], chk))
    return out


def build(src: str, inputs: Mapping[str, float] | None = None
          ) -> tuple[Value, dict[str, Value]]:
    """Parse, check and compute ``src``; returns (output Value, {name: Value}).

    ``inputs`` ({name: number}: the command line's ``NAME=VALUE``) gives
    names their values without editing the program: a name the program
    assigns a number takes the input's value instead (in the program's
    place, so the diagram keeps its order), any other name is defined
    before the program. An input for a name the program computes, or one
    the program never reads, is an error (a typo, most likely).

    Checks the whole program before computing anything."""
    try:
        out, env = _build(src, inputs)
    except ExprError as e:  # names in messages as the user spelled them (x₁)
        raise ExprError(_shown(str(e))) from None
    return out, {_shown(k): v for k, v in env.items()}


def _build(src: str, inputs: Mapping[str, float] | None) -> tuple[Value, dict[str, Value]]:
    """:func:`build` with names as Python's parser reads them (``_pythonic``)."""
    funcs = functions()
    given = _inputs(inputs, funcs)
    stmts = _statements(src, funcs)
    if not stmts:
        raise ExprError("the expression is empty: write e.g. 'x = 2; y = x * x'")
    names: set[str] = set(given)
    everywhere = frozenset(st.targets[0].id for st, _ in stmts
                           if isinstance(st, ast.Assign) and len(st.targets) == 1
                           and isinstance(st.targets[0], ast.Name))
    for i, (st, chk) in enumerate(stmts):
        if isinstance(st, ast.Assign):
            if len(st.targets) != 1 or not isinstance(st.targets[0], ast.Name):
                raise chk.fail(st, "only 'name = expression' assignments")
            tgt = st.targets[0].id
            if tgt in funcs:
                raise chk.fail(st.targets[0], f"{tgt!r} is a function name; pick another name")
            chk.expr(st.value, names, everywhere - names)
            if tgt in given and _fold(st.value) is None:
                raise chk.fail(st.value, f"{tgt} is given a value ({tgt}={given[tgt]:g}) but "
                                         "computed here; give values only to names the "
                                         "program sets to a number, or new names")
            names.add(tgt)
        elif isinstance(st, ast.Expr) and i == len(stmts) - 1:
            chk.expr(st.value, names, everywhere - names)
        else:
            raise chk.fail(st, _describe(st) + " (statements are 'name = expression')")
    if given:
        read = {n.id for st, _ in stmts for n in ast.walk(st)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        unread = [f"{k}={v:g}" for k, v in given.items() if k not in read]
        if unread:
            raise ExprError(f"{', '.join(unread)}: the expression never uses "
                            f"{'this name' if len(unread) == 1 else 'these names'}")
    label = _Labels()
    env: dict[str, Value] = {}
    for k, v in given.items():
        if k not in everywhere:
            env[k] = Value(v)
            label.name(env[k], _shown(k))
    out = None
    for st, chk in stmts:
        # checked above: each statement is `name = expression` or a final expression
        st = cast(ast.Assign | ast.Expr, st)
        if isinstance(st, ast.Assign) and cast(ast.Name, st.targets[0]).id in given:
            name = cast(ast.Name, st.targets[0]).id
            value: Value | float = given[name]
        else:
            value = _evaluate(st.value, env, chk, label)
        if isinstance(st, ast.Assign):
            name = cast(ast.Name, st.targets[0]).id
            if not isinstance(value, Value):  # a number: an input leaf, as `name = 15`
                value = Value(value)
            label.name(value, _shown(name))
            env[name] = value
        elif not isinstance(value, Value):
            value = Value(value)
        out = value
    assert out is not None
    return out, env


class _Labels:
    """The labels of one program's nodes: a label already on another node
    gets a subscript (``x``, ``x₁``, ``x₂``: a name assigned again, or the
    same source text computed twice); a node that gets a second name (``y =
    x``) is labelled with its names, newest first (``y = x``)."""

    def __init__(self) -> None:
        self.count: dict[str, int] = {}
        self.names: dict[int, list[str]] = {}  # id(node) -> the names it was assigned

    def unique(self, text: str) -> str:
        k = self.count.get(text)
        self.count[text] = 0 if k is None else k + 1
        if k is None:
            return text
        out = _atom(text) + str(k + 1).translate(_SUBSCRIPT)
        while out in self.count:  # pragma: no cover - a source text ending in a subscript
            out += "'"
        self.count[out] = 0
        return out

    def name(self, node: Value, name: str) -> None:
        """``name = node``: a new node takes the name; a named one adds it."""
        names = self.names.setdefault(id(node), [])
        names.append(self.unique(name) if not names else name)
        node.label = " = ".join(reversed(names))


_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_CALL_HEAD = re.compile(rf"[^\W\d][\w{_MARKS}]*\(")


def _atom(text: str) -> str:
    """``text`` as something a subscript attaches to as a whole: a name
    (``x``: ``x₁``) or a call whose parentheses hold the rest (``exp(x)``:
    ``exp(x)₁``) as it is, anything else bracketed (``y*w``: ``(y*w)₁``, not
    ``y*w₁``, y times w₁; a name already ending in a subscript digit, ``x₁``:
    ``(x₁)₁``, not ``x₁₁``)."""
    if _is_name(text):
        return f"({text})" if text[-1] in "₀₁₂₃₄₅₆₇₈₉" else text
    head = _CALL_HEAD.match(text)
    if head is not None and text.endswith(")"):
        depth = 0
        for i in range(head.end() - 1, len(text)):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            if depth == 0:
                if i == len(text) - 1:
                    return text
                break
    return f"({text})"


def parse_inputs(items: Iterable[str]) -> dict[str, float]:
    """The command line's ``NAME=VALUE`` arguments as ``{name: number}`` for
    :func:`build`; a malformed one is an :class:`ExprError` naming it."""
    inputs: dict[str, float] = {}
    for item in items:
        name, sep, val = item.partition("=")
        name = name.strip()
        if not sep or not _pythonic(name).isidentifier():
            raise ExprError(f"{item!r}: expected NAME=VALUE after the expression, e.g. x=0.5 "
                            "(an expression with spaces goes in quotes: \"y = x * x\")")
        try:
            number = float(val)
        except ValueError:
            raise ExprError(f"{item}: {val.strip()!r} is not a number") from None
        if name in inputs:
            raise ExprError(f"{name} is given twice ({name}={inputs[name]:g} and {item})")
        inputs[name] = number
    return inputs


def _inputs(inputs: Mapping[str, float] | None, funcs: Mapping) -> dict[str, float]:
    """The inputs checked: names the language accepts, real numbers."""
    if inputs is None:
        return {}
    if not isinstance(inputs, Mapping):
        raise TypeError(f"inputs must be a mapping of names to numbers, got "
                        f"{type(inputs).__name__}")
    out = {}
    for k, v in inputs.items():
        if not isinstance(k, str) or not _is_name(k):
            raise ExprError(f"{k!r} cannot be a name in an expression (a letter or _, then "
                            "letters, digits or _, then sub- or superscript digits or primes "
                            "if you like: x₁, w², θ′)")
        if k in funcs:
            raise ExprError(f"{k!r} is a function name; pick another name")
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ExprError(f"{k}: the value must be a number, got {type(v).__name__}")
        out[_pythonic(k)] = float(v)
    return out


def _evaluate(root: ast.AST, env: dict, chk: _Checker, label: _Labels) -> Value | float:
    """Post-order evaluation with an explicit stack (no recursion). Numbers
    stay Python floats, as in Python: ``x * 3`` is one node with its constant
    inside the op; arithmetic on numbers alone gives a number (with the
    engine's float rules: ``1/0`` is inf); a function's number input is a
    constant leaf (``tanh(2)``, as ``Value(2, requires_grad=False).tanh()``)."""
    folded = _fold(root)
    if folded is not None:
        return folded
    results: dict[int, Value | float] = {}
    stack: list[tuple[ast.AST, bool]] = [(root, False)]
    while stack:
        n, ready = stack.pop()
        if isinstance(n, ast.Constant):
            results[id(n)] = float(cast(float, n.value))
            continue
        if isinstance(n, ast.Name):
            results[id(n)] = env[n.id]
            continue
        kids = _children(n, chk.funcs)
        if not ready:
            stack.append((n, True))
            for k in reversed(kids):
                f = _fold(k)
                if f is not None:
                    results[id(k)] = f
                else:
                    stack.append((k, False))
            continue
        vals = [results.pop(id(k)) for k in kids]
        v: Value | float
        if isinstance(n, ast.BinOp):
            a, b = vals
            if isinstance(a, float) and isinstance(b, float):
                v = _FLOAT_BINOPS[type(n.op)](a, b)
            else:
                v = _BINOPS[type(n.op)](a, b)
        elif isinstance(n, ast.UnaryOp):
            v = -vals[0] if isinstance(n.op, ast.USub) else vals[0]
        else:  # a whitelisted call (_Checker): f(...) with f a name in FUNCTIONS
            call = cast(ast.Call, n)
            fn, params = chk.funcs[cast(ast.Name, call.func).id]
            n_in = _arity(fn)
            given = [_number(a, chk) for a in call.args[n_in:]]
            kws = {kw.arg: _number(kw.value, chk) for kw in call.keywords}
            args = given + [kws.get(p, d) for p, d in params[len(given):]]
            try:
                v = fn(*[x if isinstance(x, Value) else Value(x, requires_grad=False)
                         for x in vals], *args)
            except (TypeError, ValueError) as e:  # a user's op that cannot run here
                c0, c1 = chk.span(n)
                raise ExprError(f"{_shown(cast(ast.Name, call.func).id)}(...) failed: {e}"
                                + chk.point(c0, c1)) from None
        if n is not root and isinstance(v, Value) and not v.label:
            text = _text_of(chk, n)  # intermediates are named by their text
            if text and len(text) <= LABEL_MAX:
                v.label = label.unique(" ".join(text.split()))
        results[id(n)] = v
    return results[id(root)]


_FLOAT_BINOPS: dict[type, Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.Div: FloatMath.div, ast.Pow: FloatMath.pow,
}


def _text_of(chk: _Checker, n: ast.AST) -> str:
    """The source text of ``n`` (from its position: no recursion, unlike unparse)."""
    if getattr(n, "end_col_offset", None) is None \
            or getattr(n, "lineno", None) != getattr(n, "end_lineno", None):
        return ""
    c0, c1 = chk.span(n)
    return _shown(chk.src[c0:c1])


def _children(n: ast.AST, funcs: Mapping) -> list:
    if isinstance(n, ast.BinOp):
        return [n.left, n.right]
    if isinstance(n, ast.UnaryOp):
        return [n.operand]
    if isinstance(n, ast.Call):
        return n.args[:_arity(funcs[cast(ast.Name, n.func).id][0])]
    return []


def _fold(n: ast.AST) -> float | None:
    """A (possibly negated) numeric literal as one number: ``-3`` is a leaf."""
    sign = 1.0
    while isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)):
        sign = -sign if isinstance(n.op, ast.USub) else sign
        n = n.operand
    # a Constant's real numbers are int and float (bool excluded): the same test as
    # numbers.Real here, in types mypy can follow
    if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)) \
            and not isinstance(n.value, bool):
        return sign * float(n.value)
    return None
