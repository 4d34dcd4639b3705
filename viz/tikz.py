"""Diagrams as TikZ pictures for LaTeX papers and Beamer slides (``.tex``).

:func:`render_tikz` draws the graph as :func:`viz.draw` does, lets Graphviz
``dot`` lay it out (``dot -Tjson``: every shape, line and text with its
coordinates), and writes a ``tikzpicture`` placed from those coordinates.
The text is set in the document's own font (a size matching the layout,
via ``\\gradvizsize``); the colours are named styles and colours that a
document can restyle; nothing but TikZ is needed::

    \\usepackage{tikz}                     % in the preamble
    ...
    \\begin{figure}\\centering
      \\input{car_tax.tex}                 % shrunk to the line width if wider
    \\end{figure}

Restyling: define a style or colour before the ``\\input`` (the file only
defines what is not defined yet)::

    \\tikzset{gradviz/input/.style={fill=yellow!15, draw=orange}}
    \\definecolor{gradvizGrad}{HTML}{1D4ED8}
    \\renewcommand\\gradvizsize[1]{\\fontsize{#1}{#1}\\sffamily\\selectfont}

The styles, one per role: ``gradviz/input``, ``gradviz/parameter``,
``gradviz/constant``, ``gradviz/intermediate``, ``gradviz/output``,
``gradviz/op`` (fill and border of the nodes), ``gradviz/module`` and
``gradviz/active`` (collapsed boxes, the highlighted node), ``gradviz/grad``
(the gradient text), ``gradviz/name`` (node names), ``gradviz/text`` (other
text), ``gradviz/rule`` (the derivative rules on edges), ``gradviz/edge``
and ``gradviz/arrow`` (edges and their heads), ``gradviz/link`` (the thin
line tying an edge's label to its edge), ``gradviz/cluster`` (the legend's
frame). Each uses colours named ``gradviz<Role>Fill`` /
``gradviz<Role>Line`` (``gradvizInputFill``...), ``gradvizGrad``,
``gradvizRule``, ``gradvizEdge``, ``gradvizText``, ``gradvizLink``.

Labels are escaped for TeX: ``\\ { } $ & # ^ _ % ~`` and the rest show as
typed; the op symbols (``×``, ``σ``, ``√``...) become math symbols and
subscript and superscript digits (``x₁``, ``x²``) math scripts, so the file
compiles with pdfLaTeX as well as LuaLaTeX and XeLaTeX. A character pdfLaTeX
cannot show (``日``) is printed there as ``?`` (the Unicode engines
show the character itself; ``\\gradvizu{CHAR}{HEX}`` decides, so a document can
redefine it).
"""
from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import graphviz

from ..autograd.fileio import write_atomic

__all__ = ["render_tikz", "tikz_from_dot", "tex_escape", "ROLE_STYLES"]

#: dot.py's role keys -> the TikZ style names (one per role).
ROLE_STYLES = {"leaf": "input", "input": "input", "param": "parameter",
               "parameter": "parameter", "const": "constant", "constant": "constant",
               "inter": "intermediate", "intermediate": "intermediate", "output": "output",
               "op": "op", "box": "module", "module": "module", "active": "active"}
#: Colours of roles that :mod:`viz.dot` does not (yet) draw: (fill, border).
_EXTRA_ROLES = {"constant": ("#f1f5f9", "#94a3b8")}


# --------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------
_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
            "#": r"\#", "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%",
            "~": r"\textasciitilde{}", "<": r"\textless{}", ">": r"\textgreater{}",
            "|": r"\textbar{}", '"': r"\gradvizdq{}", "\u00a0": "~"}
_MATH = {"×": r"\times", "·": r"\cdot", "÷": r"\div", "√": r"\surd", "‖": r"\|",
         "−": "-", "→": r"\rightarrow", "←": r"\leftarrow", "∪": r"\cup", "∩": r"\cap",
         "∞": r"\infty", "≤": r"\leq", "≥": r"\geq", "≈": r"\approx", "≠": r"\neq",
         "±": r"\pm", "∂": r"\partial", "∇": r"\nabla", "∑": r"\sum", "∏": r"\prod",
         "∈": r"\in", "⊙": r"\odot", "⊗": r"\otimes", "°": r"^\circ", "ᵀ": r"^\top",
         "∘": r"\circ"}
_GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi - pi rho "
          "- sigma tau upsilon phi chi psi omega").split()
_MATH.update({chr(0x3B1 + i): "\\" + g for i, g in enumerate(_GREEK) if g != "-"})
_MATH.update({chr(0x391 + _GREEK.index(g.lower())): "\\" + g for g in
              "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split()})
#: Combining accents -> LaTeX's text accent commands: ŷ (y + U+0302) is \^{y}, in
#: every engine (a prediction's hat, a mean's bar).
_ACCENTS = {"\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=",
            "\u0306": "u", "\u0307": ".", "\u0308": '"', "\u030a": "r", "\u030b": "H",
            "\u030c": "v", "\u0323": "d", "\u0327": "c", "\u0328": "k", "\u0331": "b"}
_MATH.update({"\u2032": "'", "\u2033": "''", "\u2034": "'" * 3})
#: Subscript and superscript characters -> (TeX's script mark, what it raises or lowers):
#: x₁, w₂, x², xⁿ (labels of inputs and reassigned names). A run of them is one script,
#: so x₁₂ is x$_{12}$ and x⁻¹ is x$^{-1}$.
_SCRIPTS = {**{chr(0x2080 + i): ("_", str(i)) for i in range(10)},
            **{ch: ("^", str(i)) for i, ch in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")},
            "₊": ("_", "+"), "₋": ("_", "-"), "₌": ("_", "="), "₍": ("_", "("), "₎": ("_", ")"),
            "⁺": ("^", "+"), "⁻": ("^", "-"), "⁼": ("^", "="), "⁽": ("^", "("), "⁾": ("^", ")"),
            "ⁿ": ("^", "n"), "ⁱ": ("^", "i")}
_TEXT = {"…": r"\dots{}", "–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''",
         "\ufffd": "?"}


def _accented(ch: str) -> str | None:
    """``ŷ`` as ``\\^{y}``: a letter with accents LaTeX has commands for, else None."""
    parts = unicodedata.normalize("NFD", ch)
    if len(parts) < 2 or not parts[0].isascii() or not parts[0].isalpha():
        return None
    out = {"i": r"\i", "j": r"\j"}.get(parts[0], parts[0])  # dotless under an accent
    for mark in parts[1:]:
        cmd = _ACCENTS.get(mark)
        if cmd is None:
            return None
        out = "\\" + cmd + "{" + out + "}"
    return out


def tex_escape(text: str) -> str:
    """``text`` as LaTeX that prints it as typed (pdfLaTeX, LuaLaTeX, XeLaTeX)."""
    out: list[str] = []
    prev = ""
    script = ""  # the script being written, while a run of script characters goes on
    for ch in text:
        if ch in _SCRIPTS:
            mark, body = _SCRIPTS[ch]
            if prev in _SCRIPTS and _SCRIPTS[prev][0] == mark:
                script += body  # the run goes on: one script, x$_{12}$
                out[-1] = r"\ensuremath{" + mark + "{" + script + "}}"
            else:
                script = body
                out.append(r"\ensuremath{" + mark + "{" + script + "}}")
            prev = ch
            continue
        if ch in _ACCENTS and prev.isascii() and prev.isalpha():
            # a combining accent typed after its letter (x + U+0302: x̂)
            out[-1] = _accented(prev + ch) or out[-1]
            prev = ch
            continue
        if ch in _SPECIAL:
            piece = _SPECIAL[ch]
        elif ch in _MATH:
            piece = r"\ensuremath{" + _MATH[ch] + "}"
        elif ch in _TEXT:
            piece = _TEXT[ch]
        elif ch == " ":
            piece = r"\ " if prev == " " else " "  # runs of spaces kept
        elif ch in "-`'" and prev == ch:
            piece = "{}" + ch  # no -- / `` / '' ligatures
        elif ch == "`" and prev in ("!", "?"):
            piece = "{}`"  # nor the ligatures !` and ?` (inverted marks)
        elif " " < ch < "\x7f" or "\u00a1" <= ch <= "\u00ff":
            piece = ch  # ASCII and Latin-1: every engine knows them
        elif ch < " " or "\x7f" <= ch <= "\u00a0":
            piece = " "
        else:
            piece = _accented(ch) or (r"\gradvizu{" + ch + "}{" + f"{ord(ch):04X}" + "}")
        out.append(piece)
        prev = ch
    return "".join(out)


# --------------------------------------------------------------------------
# Colours and styles
# --------------------------------------------------------------------------
def _palette() -> tuple[dict, dict]:
    """(role -> (fill, border) hex, other named colours) from viz.dot's look."""
    from . import dot as _dot
    roles: dict[str, tuple[str, str]] = {}
    for key, pair in getattr(_dot, "COLOURS", {}).items():
        style = ROLE_STYLES.get(key, key)
        roles.setdefault(style, (pair[0].lower(), pair[1].lower()))
    for style, pair in _EXTRA_ROLES.items():
        roles.setdefault(style, pair)
    named = {"Grad": getattr(_dot, "GRAD_COLOUR", "#b91c1c").lower(),
             "Rule": getattr(_dot, "RULE_COLOUR", "#64748b").lower(),
             "Edge": "#475569", "Text": "#000000", "Cluster": "#cbd5e1",
             "Link": getattr(_dot, "LINK_COLOUR", "#b8c2cf").lower()}
    return roles, named


def _cname(style: str) -> str:
    return "gradviz" + style.capitalize()


def _rgb(hexcol: str) -> str:
    h = hexcol.lstrip("#")[:6]
    return f"{{rgb,255:red,{int(h[0:2], 16)};green,{int(h[2:4], 16)};blue,{int(h[4:6], 16)}}}"


def _html(hexcol: str) -> str:
    return hexcol.lstrip("#")[:6].upper()


def _preamble(roles: dict, named: dict) -> list[str]:
    lines = [
        "% Styles and colours: each is defined only if the document has not defined it,",
        "% so \\tikzset{gradviz/input/.style={...}} or \\definecolor{gradvizGrad}{...}{...}",
        "% before \\input restyles the picture.",
        r"\providecommand\gradvizsize[1]{\fontsize{#1}{#1}\selectfont}",
        r"\providecommand\gradvizu[2]{\ifdefined\XeTeXrevision#1\else\ifdefined\directlua#1"
        r"\else?\fi\fi}",
        # a straight double quote: OT1 fonts have none at '"' (it prints a closing quote)
        r"\providecommand\gradvizdq{{\edef\gradvizenc{\csname f@encoding\endcsname}"
        r"\def\gradvizot{OT1}\ifx\gradvizenc\gradvizot\ttfamily\fi\char34}}",
        r"\providecommand\gradvizstyle[2]{\pgfkeysifdefined{/tikz/gradviz/#1/.@cmd}{}"
        r"{\tikzset{gradviz/#1/.style={#2}}}}",
        # the picture, set in \gradvizbox, shrunk to the line width and 85% of the text
        # height when larger (\resizebox: graphicx, which TikZ loads); not indented
        # like a paragraph's first line
        r"\providecommand\gradvizshow{\ifdefined\gradviznatural\else"
        r"\ifdim\wd\gradvizbox>\linewidth"
        r"\sbox\gradvizbox{\resizebox{\linewidth}{!}{\usebox\gradvizbox}}\fi"
        r"\ifdim\ht\gradvizbox>0.85\textheight"
        r"\sbox\gradvizbox{\resizebox{!}{0.85\textheight}{\usebox\gradvizbox}}\fi"
        r"\fi\ifvmode\noindent\fi\usebox\gradvizbox}",
    ]
    for style, (fill, line) in roles.items():
        c = _cname(style)
        lines.append(rf"\providecolor{{{c}Fill}}{{HTML}}{{{_html(fill)}}}"
                     rf"\providecolor{{{c}Line}}{{HTML}}{{{_html(line)}}}")
    for name, col in named.items():
        lines.append(rf"\providecolor{{gradviz{name}}}{{HTML}}{{{_html(col)}}}")
    for style in roles:
        c = _cname(style)
        lines.append(rf"\gradvizstyle{{{style}}}{{fill={c}Fill, draw={c}Line}}")
    lines += [r"\gradvizstyle{text}{text=gradvizText}",
              r"\gradvizstyle{name}{text=gradvizText, font=\bfseries}",
              r"\gradvizstyle{grad}{text=gradvizGrad}",
              r"\gradvizstyle{rule}{text=gradvizRule}",
              r"\gradvizstyle{edge}{draw=gradvizEdge}",
              r"\gradvizstyle{arrow}{fill=gradvizEdge, draw=none}",
              r"\gradvizstyle{cluster}{draw=gradvizCluster, fill=none}",
              r"\gradvizstyle{link}{draw=gradvizLink, fill=none}"]
    return lines


# --------------------------------------------------------------------------
# xdot drawing operations -> TikZ
# --------------------------------------------------------------------------
def _n(x: float) -> str:
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _pt(p: Iterable[float]) -> str:
    x, y = p
    return f"({_n(x)},{_n(y)})"


def _path(op: dict) -> str:
    kind = op["op"].lower()
    if kind == "e":
        x, y, rx, ry = op["rect"]
        return f"{_pt((x, y))} ellipse [x radius={_n(rx)}, y radius={_n(ry)}]"
    pts = op["points"]
    if kind in ("p", "l"):
        body = " -- ".join(_pt(p) for p in pts)
        return body + (" -- cycle" if kind == "p" else "")
    # a B-spline as Graphviz writes it: p0, then (c1, c2, p) triples
    parts = [_pt(pts[0])]
    for i in range(1, len(pts) - 2, 3):
        parts.append(f".. controls {_pt(pts[i])} and {_pt(pts[i + 1])} .. {_pt(pts[i + 2])}")
    return " ".join(parts)


def _colour(c: str | None) -> str | None:
    """A Graphviz colour as '#rrggbb', or None for none/transparent."""
    if not c or c in ("none", "transparent"):
        return None
    c = c.lower()
    if c.startswith("#"):
        if len(c) == 9 and c[7:] == "00":
            return None
        return c[:7]
    named = {"black": "#000000", "white": "#ffffff", "red": "#ff0000"}
    return named.get(c, "#000000")


class _Emitter:
    def __init__(self, roles: dict, named: dict, filled_bspline: str):
        self.roles = roles
        self.by_fill = {fill: style for style, (fill, _) in roles.items()}
        self.by_line = {line: style for style, (_, line) in roles.items()}
        self.named = {col: name for name, col in named.items()}
        self.filled_b = filled_bspline  # "b" per xdot; some Graphviz versions' JSON say "B"
        self.out: list[str] = []

    def colour_ref(self, col: str) -> str:
        if col in self.named:
            return "gradviz" + self.named[col]
        if col in self.by_fill:
            return _cname(self.by_fill[col]) + "Fill"
        if col in self.by_line:
            return _cname(self.by_line[col]) + "Line"
        return _rgb(col)

    def is_filled(self, op: dict) -> bool:
        k = op["op"]
        if k in ("b", "B"):
            return k == self.filled_b
        return k in ("E", "P")

    def ops(self, ops: list, kind: str) -> None:
        """Emit one object's drawing operations; ``kind``: node, edge, head, label, cluster."""
        pen: str | None = "#000000"
        fill: str | None = None
        size, bold = 14.0, False
        width = None
        skip: set[int] = set()
        for i, op in enumerate(ops):
            k = op["op"]
            if k == "c":
                pen = _colour(op.get("color"))
            elif k == "C":
                fill = _colour(op.get("color"))
            elif k == "F":
                size = float(op.get("size", size))
                bold = "bold" in op.get("face", "").lower()
            elif k == "t":
                bold = bool(int(op.get("fontchar", 0)) & 1)
            elif k == "S":
                m = re.match(r"setlinewidth\(([\d.]+)\)", op.get("style", ""))
                if m:
                    width = float(m.group(1))
            elif k == "T":
                self.text(op, pen, size, bold)
            elif k in "EePpLBb" and id(op) not in skip:
                filled = self.is_filled(op) and fill is not None
                stroke = pen
                if filled and stroke is None:  # a fill and its outline drawn later: one path
                    later = _outline_of(ops, i, self.is_filled)
                    if later is not None and later[1] is not None:
                        stroke = later[1]
                        skip.add(id(later[0]))
                self.shape(op, fill if filled else None, stroke, kind, width)

    def shape(self, op: dict, fill: str | None, pen: str | None, kind: str,
              width: float | None) -> None:
        if fill is None and pen is None:
            return
        path = _path(op)
        opts: list[str] = []
        role = self.by_fill.get(fill) if fill else None
        if role and (pen is None or pen == self.roles[role][1]):
            opts.append(f"gradviz/{role}")
            if pen is None:
                opts.append("draw=none")
        elif kind == "head" and fill is not None and fill == pen:
            opts.append("gradviz/arrow" if fill == self._edge()
                        else f"fill={self.colour_ref(fill)}, draw=none")
        elif kind == "edge" and fill is None and pen == self._edge():
            opts.append("gradviz/edge")
        elif kind == "cluster" and fill in (None, "#ffffff") and pen == self._cluster():
            opts.append("gradviz/cluster")
        elif kind == "label" and fill is None and pen == self._named("Link"):
            opts.append("gradviz/link")
        else:
            opts.append(f"fill={self.colour_ref(fill)}" if fill else "fill=none")
            opts.append(f"draw={self.colour_ref(pen)}" if pen else "draw=none")
        if width is not None and width != 1.0:
            opts.append(f"line width={_n(width)}bp")
        self.out.append(f"\\path[{', '.join(opts)}] {path};")

    def _edge(self) -> str:
        return next(c for c, n in self.named.items() if n == "Edge")

    def _cluster(self) -> str:
        return next(c for c, n in self.named.items() if n == "Cluster")

    def _named(self, name: str) -> str | None:
        return next((c for c, n in self.named.items() if n == name), None)

    def text(self, op: dict, colour: str | None, size: float, bold: bool) -> None:
        text = op.get("text", "")
        if not text.strip():
            return
        x, y = op["pt"]
        w = float(op.get("width", 0.0))
        align = op.get("align", "c")
        cx = x + w / 2 if align == "l" else (x - w / 2 if align == "r" else x)
        name = self.named.get(colour or "#000000")
        if name == "Grad":
            style = "gradviz/grad"
        elif name == "Rule":
            style = "gradviz/rule"
        elif bold:
            style = "gradviz/name" if name == "Text" else \
                f"gradviz/name, text={self.colour_ref(colour or '#000000')}"
        elif name == "Text":
            style = "gradviz/text"
        else:
            style = f"gradviz/text, text={self.colour_ref(colour or '#000000')}"
        self.out.append(f"\\node[{style}, gradviz@t] at {_pt((cx, y))} "
                        f"{{\\gradvizsize{{{_n(size)}}}{tex_escape(text)}}};")


def _outline_of(ops: list, i: int, is_filled) -> tuple[dict, str | None] | None:
    """The unfilled shape with the same points as the filled ``ops[i]`` drawn
    later in the same list (Graphviz fills a table, draws its cells, then
    its border), and the pen colour it is drawn with."""
    pen = None
    shape = ops[i].get("points", ops[i].get("rect"))
    for op in ops[i + 1:]:
        if op["op"] == "c":
            pen = _colour(op.get("color"))
        elif op["op"] in "EePpLBb" and not is_filled(op) and \
                op.get("points", op.get("rect")) == shape:
            return op, pen
    return None


def _filled_bspline_letter(layout: dict) -> str:
    """Which of "b"/"B" the JSON uses for filled B-splines: xdot says "b", but
    Graphviz 2.43's JSON writes them swapped. Edges are never filled, so
    their splines tell."""
    for e in layout.get("edges", ()):
        for op in e.get("_draw_", ()):
            if op["op"] in ("b", "B"):
                return "B" if op["op"] == "b" else "b"
    return "B" if _probe_swapped() else "b"


_SWAPPED: list = []


def _probe_swapped() -> bool:
    if not _SWAPPED:
        from .dot import run_dot
        probe = json.loads(run_dot("digraph{a->b}", "json"))
        ops = [op["op"] for e in probe.get("edges", ()) for op in e.get("_draw_", ())]
        _SWAPPED.append("b" in ops)
    return _SWAPPED[0]


def tikz_from_dot(source: str, *, timeout: float | None = 120.0) -> str:
    """A ``tikzpicture`` (LaTeX text) of the DOT ``source`` as Graphviz
    ``dot`` lays it out. Needs ``dot``; TeX is not needed to write it."""
    from .dot import run_dot
    layout = json.loads(run_dot(source, "json", timeout).decode("utf-8"))
    roles, named = _palette()
    em = _Emitter(roles, named, _filled_bspline_letter(layout))
    x0, y0, x1, y1 = (float(v) for v in layout.get("bb", "0,0,0,0").split(","))
    objects = layout.get("objects", [])
    n_sub = int(layout.get("_subgraph_cnt", 0))  # subgraphs (the legend's cluster) come first
    for c in objects[:n_sub]:
        em.ops(c.get("_draw_", []), "cluster")
        em.ops(c.get("_ldraw_", []), "label")
    for e in layout.get("edges", []):
        em.ops(e.get("_draw_", []), "edge")
        for key in ("_hdraw_", "_tdraw_"):
            em.ops(e.get(key, []), "head")
    for o in objects[n_sub:]:
        em.ops(o.get("_draw_", []), "node")
        em.ops(o.get("_ldraw_", []), "label")
    for e in layout.get("edges", []):
        for key in ("_ldraw_", "_hldraw_", "_tldraw_"):
            em.ops(e.get(key, []), "label")
    # every line before the picture ends in %: the file may be read in horizontal mode
    # (\noindent\input, \resizebox{...}{!}{\input{...}}), where a line end is a space
    head = ["% A gradviz diagram (gradviz.viz.tikz), placed from Graphviz's layout.",
            "% Needs \\usepackage{tikz}; include it with \\input{...}. A picture wider than",
            "% the line or taller than 85% of the text height shrinks to fit (text and all);",
            "% \\def\\gradviznatural{} before \\input keeps its natural size.",
            *_preamble(roles, named),
            r"\tikzset{gradviz@t/.style={inner sep=0pt, outer sep=0pt, anchor=base}}",
            r"\ifdefined\gradvizbox\else\newsavebox\gradvizbox\fi",
            r"\begin{lrbox}{\gradvizbox}"]
    head = [ln if ln.startswith("%") else ln + "%" for ln in head] + [
            r"\begin{tikzpicture}[x=1bp, y=1bp, line width=0.6bp, line join=round]",
            f"\\useasboundingbox {_pt((x0, y0))} rectangle {_pt((x1, y1))};"]
    return "\n".join(head + em.out + [r"\end{tikzpicture}%", r"\end{lrbox}%",
                                       r"\gradvizshow%", ""])


def render_tikz(root: Any, path: str | os.PathLike, *, timeout: float | None = 120.0,
                **draw_options: Any) -> str:
    """Draw ``root``'s graph (``draw_options`` as for :func:`viz.draw`; ``root``
    may also be a :class:`graphviz.Digraph` from it) and write it to
    ``path`` as a TikZ picture (see the module docstring for how to include
    and restyle it). Written atomically; returns the path."""
    from .dot import dot_program, draw
    path = os.fsdecode(os.fspath(path))  # str, bytes or a PathLike
    if os.path.splitext(path)[1].lower() != ".tex":
        raise ValueError(f"render_tikz: the file must end in .tex, got {path!r}")
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise FileNotFoundError(f"render_tikz: the directory {d!r} for {path!r} does not "
                                "exist; create it first")
    dot_program()  # fail before drawing
    dg = root if isinstance(root, graphviz.Digraph) else draw(root, **draw_options)
    text = tikz_from_dot(dg.source, timeout=timeout)
    write_atomic(path, text)
    odd = sorted(set(re.findall(r"\\gradvizu\{(.)\}", text)))
    if odd:
        from .dot import say
        say(f"render_tikz: {' '.join(odd)} print as ? with pdfLaTeX (LuaLaTeX and XeLaTeX "
            r"show them; or \renewcommand\gradvizu before \input)")
    return path
