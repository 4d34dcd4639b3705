"""Reading a Graphviz layout back (``dot -Tjson``) for the layout tests and
the crossing counts: node centres, edge splines as polylines, edge-label
positions, and the number of places where two edges cross."""
from __future__ import annotations

import itertools
import json
import math
import subprocess


def layout(source: str) -> dict:
    """``dot -Tjson`` of ``source``, parsed (the real ``dot`` program)."""
    out = subprocess.run(["dot", "-Tjson"], input=source.encode("utf-8"), capture_output=True,
                         check=True).stdout
    return json.loads(out)


def _pt(text: str) -> tuple:
    x, y = text.split(",")[:2]
    return float(x), float(y)


def nodes(g: dict) -> dict:
    """name -> (x, y) centre of every node (not the subgraphs)."""
    return {o["name"]: _pt(o["pos"]) for o in g.get("objects", []) if "pos" in o}


def _bezier(pts: list, steps: int = 12) -> list:
    out = [tuple(pts[0])]
    for k in range(1, len(pts) - 2, 3):
        p0, p1, p2, p3 = pts[k - 1], pts[k], pts[k + 1], pts[k + 2]
        for s in range(1, steps + 1):
            t = s / steps
            u = 1 - t
            out.append(tuple(u ** 3 * a + 3 * u * u * t * b + 3 * u * t * t * c + t ** 3 * d
                             for a, b, c, d in zip(p0, p1, p2, p3)))
    return out


def edges(g: dict) -> list:
    """One dict per drawn edge (invisible ones left out): ``tail``/``head``
    (node names), ``line`` (the spline as a polyline, arrow tip included),
    ``label`` (the label's centre, or None), ``link`` (the line Graphviz
    draws from a decorated label to its edge, or None), ``text``."""
    names = {o["_gvid"]: o["name"] for o in g.get("objects", [])}
    out = []
    for e in g.get("edges", []):
        if e.get("style") == "invis":
            continue
        line: list = []
        for op in e.get("_draw_", []):
            if op["op"] == "b":
                line += _bezier(op["points"])
        tip = e["pos"].split()[0]
        if tip.startswith("e,"):  # the arrow head's tip: the edge ends there
            line.append(_pt(tip[2:]))
        link = None  # decorate=true: the line from the label to the edge
        for op in e.get("_ldraw_", []):
            if op["op"] == "L":
                link = [tuple(p) for p in op["points"]]
        lab = None
        for key in ("lp", "xlp", "head_lp", "tail_lp"):
            if key in e:
                lab = _pt(e[key])
                break
        out.append({"tail": names[e["tail"]], "head": names[e["head"]], "line": line,
                    "label": lab, "link": link, "text": e.get("label") or e.get("xlabel")
                    or e.get("headlabel") or ""})
    return out


def _seg_dist(p: tuple, a: tuple, b: tuple) -> float:
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    n = dx * dx + dy * dy
    t = 0.0 if n == 0 else max(0.0, min(1.0, ((p[0] - ax) * dx + (p[1] - ay) * dy) / n))
    return math.hypot(p[0] - ax - t * dx, p[1] - ay - t * dy)


def distance(p: tuple, line: list) -> float:
    """The distance from point ``p`` to a polyline."""
    return min(_seg_dist(p, a, b) for a, b in itertools.pairwise(line))


def _cross(a: tuple, b: tuple, c: tuple, d: tuple) -> tuple | None:
    """The point where segments ab and cd properly cross, or None."""
    r = (b[0] - a[0], b[1] - a[1])
    s = (d[0] - c[0], d[1] - c[1])
    den = r[0] * s[1] - r[1] * s[0]
    if abs(den) < 1e-12:
        return None
    t = ((c[0] - a[0]) * s[1] - (c[1] - a[1]) * s[0]) / den
    u = ((c[0] - a[0]) * r[1] - (c[1] - a[1]) * r[0]) / den
    if 0 < t < 1 and 0 < u < 1:
        return a[0] + t * r[0], a[1] + t * r[1]
    return None


def crossings(g: dict) -> int:
    """How many times two drawn edges cross (edges that share a node are
    not counted against each other: they meet there by design)."""
    es = edges(g)
    total = 0
    for i, e in enumerate(es):
        for f in es[i + 1:]:
            if {e["tail"], e["head"]} & {f["tail"], f["head"]}:
                continue
            points: list = []
            for a, b in itertools.pairwise(e["line"]):
                for c, d in itertools.pairwise(f["line"]):
                    p = _cross(a, b, c, d)
                    if p is not None and all(math.hypot(p[0] - q[0], p[1] - q[1]) > 3
                                             for q in points):
                        points.append(p)
            total += len(points)
    return total


def label_misplaced(g: dict) -> list:
    """The edge labels nearer to some other edge than to their own: a list
    of (label text, distance to its own edge, nearest other edge's distance)."""
    es = edges(g)
    bad = []
    for i, e in enumerate(es):
        if e["label"] is None:
            continue
        own = distance(e["label"], e["line"])
        other = min((distance(e["label"], f["line"]) for j, f in enumerate(es) if j != i),
                    default=math.inf)
        if other <= own:
            bad.append((e["text"], round(own, 1), round(other, 1)))
    return bad


def label_anchors(g: dict) -> list:
    """Per labelled edge: (text, the distance from where its label's link
    meets an edge to its own edge, the same to the nearest other edge);
    None for the distances when the label has no link."""
    es = edges(g)
    out = []
    for i, e in enumerate(es):
        if e["label"] is None:
            continue
        if not e["link"]:
            out.append((e["text"], None, None))
            continue
        end = e["link"][-1]
        own = distance(end, e["line"])
        other = min((distance(end, f["line"]) for j, f in enumerate(es) if j != i),
                    default=math.inf)
        out.append((e["text"], own, other))
    return out
