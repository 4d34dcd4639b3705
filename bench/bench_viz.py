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

The step page (``--part steps``), against the way it was made before the
diagram model: one ``dot`` SVG per backward step (``draw_steps`` frames laid
out in one ``dot`` run), measured in the same run:

* ``MLP(3, [4, 4, 1])`` on 4 samples (squared error): the page at most 3 MB
  and 3 s to write (before: 42 MB, 24 s);
* a 5,000-node page (``sum x_i * w_i``, 1,250 terms, then tanh): under 10 s
  and 15 MB;
* per-step render time in Chromium on that page (headless, the page's own
  ``gradviz.go(k)`` plus a forced style and layout flush): under 16 ms.

Big graphs (``--part big``): a 2,000-term sum rendered (target < 5 s); a
20,000-node graph rendered and paged (a collapsed picture within 30 s); the
peak memory of ``dot`` (target < 2 GB).

    python bench/bench_viz.py [--repeat 3] [--part render|steps|big|all]
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
        g.node(name=uid, label="{ %s | data %.4f | grad %.4f }" % (n.label, n.data, n.grad),  # noqa: UP031 (micrograd's own line)
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
    ap.add_argument("--part", choices=("render", "steps", "big", "all"), default="all")
    a = ap.parse_args(argv)
    if a.part in ("render", "all"):
        bench_render(a)
    if a.part in ("steps", "all"):
        bench_steps(a)
    if a.part in ("big", "all"):
        bench_big(a)


# --- the step page ----------------------------------------------------------
def mlp_on_4_samples() -> Value:
    from gradviz import nn
    m = nn.MLP(3, [4, 4, 1], seed=0)
    xs = [[0.5, -1.0, 2.0], [1.0, 0.2, -0.3], [-0.7, 0.1, 0.9], [0.3, 0.3, 0.3]]
    loss = sum(((m(x) - 1.0) ** 2 for x in xs), Value(0.0))
    loss.label = "loss"
    return loss


def sum_of_products(n_terms: int) -> Value:
    total = Value(0.0, label="start")
    for i in range(n_terms):
        total = total + Value(0.01 * (i % 7 - 3), label=f"x{i}") * Value(0.5, label=f"w{i}")
    return total.tanh()


def frames_page_peer(root) -> int:
    """The page as it was made before: one dot SVG per backward step (bytes)."""
    frames = viz.draw_steps(root)
    return _dot_svg("".join(f.source for f in frames))


def bench_steps(a) -> None:
    with tempfile.TemporaryDirectory() as d:
        page = os.path.join(d, "p.html")
        root = mlp_on_4_samples()
        n = len(topological_order([root]))
        ours = time_it(lambda: viz.steps_html(root, page), a.repeat)
        size = os.path.getsize(page)
        t = time.perf_counter()
        peer_bytes = frames_page_peer(root)
        peer = time.perf_counter() - t
        print(f"step page, MLP(3, [4, 4, 1]) on 4 samples ({n} values):")
        print(f"  one layout + data        {ours:8.2f} s  {size / 1e6:6.2f} MB   (target <= 3 s, "
              f"<= 3 MB)")
        print(f"  peer: an SVG per step    {peer:8.2f} s  {peer_bytes / 1e6:6.2f} MB   ratio "
              f"ours/peer {ours / peer:.3f} time, {size / peer_bytes:.3f} size")
        big = sum_of_products(1250)
        n = len(topological_order([big]))
        t = time.perf_counter()
        viz.steps_html(big, page)
        took = time.perf_counter() - t
        size = os.path.getsize(page)
        print(f"step page, {n}-node graph: {took:8.2f} s  {size / 1e6:6.2f} MB   (target < 10 s, "
              f"< 15 MB)")
        step_ms = browser_step_times(page)
        if step_ms:
            seq, jump = step_ms
            print(f"  per step in Chromium: median {statistics.median(seq):.2f} ms, "
                  f"max {max(seq):.2f} ms over {len(seq)} steps (target < 16 ms); "
                  f"jumps (Home/End/slider) median {statistics.median(jump):.2f} ms, "
                  f"max {max(jump):.2f} ms")


_STEP_JS = """(args) => {
    const [start, count, jumps] = args;
    const flush = () => document.querySelector('#view svg').getBoundingClientRect().width
        + document.body.offsetHeight;
    const seq = [], jump = [];
    window.gradviz.go(start); flush();  // get there first: that is a jump
    for (let k = start + 1; k <= start + count; k++) {
        const t = performance.now(); window.gradviz.go(k); flush(); seq.push(performance.now() - t);
    }
    for (let j = 0; j < jumps; j++) {
        const k = (j * 7919) % window.gradviz.frames;
        const t = performance.now(); window.gradviz.go(k); flush();
        jump.push(performance.now() - t);
    }
    return [seq, jump];
}"""


def browser_step_times(page: str):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("  (playwright not installed: no browser timing)")
        return None
    exe = os.environ.get("GRADVIZ_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True,
                              args=["--no-sandbox", "--disable-gpu"])
        pg = b.new_page(viewport={"width": 1200, "height": 800})
        pg.goto("file://" + page)
        frames = pg.evaluate("() => window.gradviz.frames")
        seq, jump = pg.evaluate(_STEP_JS, [frames // 2, 300, 40])
        b.close()
    return seq, jump


# --- big graphs ---------------------------------------------------------------
def bench_big(a) -> None:
    import resource

    from gradviz.viz.cli import main as cli
    expr = "y = " + " + ".join(str(i % 9 + 1) for i in range(2000))
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "sum.svg")
        t = time.perf_counter()
        cli(["expr", expr, "-o", out, "--collapse", "none"])
        print(f"2,000-term sum, every node, gradviz expr -> svg: {time.perf_counter() - t:.2f} s "
              f"(target < 5 s; before: 22 s, 6.3 GB, segfault)")
        t = time.perf_counter()
        cli(["expr", expr, "-o", out])
        print(f"the same, as drawn by default (the sum's middle folded into one box): "
              f"{time.perf_counter() - t:.2f} s")
        huge = sum_of_products(5000)
        n = len(topological_order([huge]))
        t = time.perf_counter()
        viz.render(huge, os.path.join(d, "huge.svg"))
        print(f"{n}-node graph, viz.render -> svg: {time.perf_counter() - t:.2f} s "
              f"(collapsed automatically; target < 30 s)")
        t = time.perf_counter()
        viz.steps_html(huge, os.path.join(d, "huge.html"))
        print(f"{n}-node graph, viz.steps_html: {time.perf_counter() - t:.2f} s, "
              f"{os.path.getsize(os.path.join(d, 'huge.html')) / 1e6:.1f} MB")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: dot {peak:.0f} MB, this process {me:.0f} MB (target < 2 GB)")


def bench_render(a) -> None:
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
        # every value drawn, as the peer draws them (a graph this big is otherwise
        # collapsed by default: more than viz.model.COLLAPSE_AT values)
        ours = time_it(lambda: viz.render(root, out, collapse="none"), a.repeat)
        coll = time_it(lambda: viz.render(root, out, collapse="repeat"), a.repeat)
        peer_nn = time_it(lambda: _dot_svg(peer_draw_dot(loss).source), a.repeat)
        ours_nn = time_it(lambda: viz.render(loss, out, collapse="none"), a.repeat)
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
