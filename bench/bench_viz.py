"""Rendering speed of viz against micrograd's draw_dot, on the same graph.

The graph: micrograd's MLP(2, [16, 16, 1]) on one sample, built with our
Values exactly as micrograd builds it (``sum(w_i * x_i, b)`` then relu; 979
values, about 1,600 drawn nodes with the op nodes), backpropagated.

The peer: micrograd 0.1.0 ships no drawing code; its ``draw_dot`` lives in
the repository's notebook (trace_graph.ipynb). ``peer_draw_dot`` below is
written from its published description -- a recursive trace collecting
nodes and edges into sets, then a ``graphviz.Digraph`` with one record node
``{ label | data %.4f | grad %.4f }`` per value and one plain node per op --
and reads our Values through the node protocol (``parents``/``op`` for
micrograd's ``_prev``/``_op``). Both diagrams are laid out to SVG by the same
``dot`` program; the time includes building the DOT text.

Targets: full render at most half the peer's time; collapsed under 50 ms.

    python bench/bench_viz.py [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

sys.setrecursionlimit(10_000)  # the peer's trace is recursive

import graphviz  # noqa: E402

from gradviz import viz  # noqa: E402
from gradviz.autograd import Value  # noqa: E402
from gradviz.autograd.graph import topological_order  # noqa: E402


def micrograd_mlp(seed: int = 0) -> Value:
    """micrograd's MLP(2, [16, 16, 1]) on one sample, built with our Values."""
    rng = random.Random(seed)
    sizes = [2, 16, 16, 1]
    x = [Value(0.5, label="x1"), Value(-1.0, label="x2")]
    for li in range(3):
        outs = []
        for _ in range(sizes[li + 1]):
            w = [Value(rng.uniform(-1, 1)) for _ in range(sizes[li])]
            act = sum((wi * xi for wi, xi in zip(w, x)), Value(0.0))
            outs.append(act.relu() if li < 2 else act)
        x = outs
    y = x[0]
    y.backward()
    return y


def nn_mlp_loss(seed: int = 0) -> Value:
    """nn.MLP(2, [16, 16, 1]) on one sample, squared error, backpropagated."""
    from gradviz import nn
    model = nn.MLP(2, [16, 16, 1], seed=seed)
    loss = (model([0.5, -1.0]) - 1.0) ** 2
    loss.backward()
    return loss


# --- the peer (see the module docstring) -----------------------------------
def _peer_trace(root):
    nodes, edges = set(), set()

    def visit(v):
        if v not in nodes:
            nodes.add(v)
            for p in v.parents:
                edges.add((p, v))
                visit(p)
    visit(root)
    return nodes, edges


def peer_draw_dot(root) -> graphviz.Digraph:
    nodes, edges = _peer_trace(root)
    g = graphviz.Digraph(format="svg", graph_attr={"rankdir": "LR"})
    for n in nodes:
        uid = str(id(n))
        g.node(name=uid, label="{ %s | data %.4f | grad %.4f }" % (n.label, n.data, n.grad),
               shape="record")
        if n.op:
            g.node(name=uid + n.op, label=n.op)
            g.edge(uid + n.op, uid)
    for a, b in edges:
        g.edge(str(id(a)), str(id(b)) + b.op)
    return g


def _dot_svg(source: str) -> int:
    res = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True, check=True)
    return len(res.stdout)


def time_it(fn, repeat: int) -> float:
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    root = micrograd_mlp()
    n_values = len(topological_order([root]))
    n_ops = sum(1 for n in topological_order([root]) if n.parents)
    print(f"graph: micrograd-style MLP(2, [16, 16, 1]), one sample: {n_values} values, "
          f"{n_ops} ops, {n_values + n_ops} drawn nodes")
    loss = nn_mlp_loss()
    n_nn = len(topological_order([loss]))
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "g.svg")
        peer = time_it(lambda: _dot_svg(peer_draw_dot(root).source), a.repeat)
        ours = time_it(lambda: viz.render(root, out), a.repeat)
        coll = time_it(lambda: viz.render(root, out, collapse="repeat"), a.repeat)
        peer_nn = time_it(lambda: _dot_svg(peer_draw_dot(loss).source), a.repeat)
        ours_nn = time_it(lambda: viz.render(loss, out), a.repeat)
        mod_nn = time_it(lambda: viz.render(loss, out, collapse="module"), a.repeat)
        lay_nn = time_it(lambda: viz.render(loss, out, collapse=2), a.repeat)
    print(f"peer draw_dot -> svg           {peer * 1e3:8.1f} ms")
    print(f"viz.render -> svg              {ours * 1e3:8.1f} ms   ratio ours/peer "
          f"{ours / peer:.2f} (target <= 0.50)")
    print(f"viz.render collapse='repeat'   {coll * 1e3:8.1f} ms   (target < 50 ms)")
    print(f"nn.MLP(2, [16, 16, 1]) + squared error (one wsum node per neuron): {n_nn} values")
    print(f"peer draw_dot -> svg           {peer_nn * 1e3:8.1f} ms")
    print(f"viz.render -> svg              {ours_nn * 1e3:8.1f} ms   ratio ours/peer "
          f"{ours_nn / peer_nn:.2f}")
    print(f"viz.render collapse='module'   {mod_nn * 1e3:8.1f} ms   (one box per Neuron)")
    print(f"viz.render collapse=2          {lay_nn * 1e3:8.1f} ms   (one box per Layer)")


if __name__ == "__main__":
    main()
