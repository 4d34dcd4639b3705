"""Big graphs: collapse by nn module (viz.scope) and by repeated structure."""
import re
import shutil

import pytest

from gradviz import nn, viz
from gradviz.autograd import Value
from gradviz.autograd.graph import topological_order
from gradviz.viz import model as _model
from gradviz.viz import scope
from gradviz.viz.collapse import group

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")


def _mlp_loss(nouts=(16, 16, 1)):
    model = nn.MLP(2, list(nouts), seed=0)
    y = model([0.5, -1.0])
    loss = (y - 1.0) ** 2
    loss.backward()
    return model, loss


def _boxes(src):
    return re.findall(r"^\tm\d+ \[label=<(.*)>\]$", src, flags=re.M)


def test_module_collapse_one_box_per_neuron_with_params_and_grad_norm():
    model, loss = _mlp_loss((3, 1))
    src = viz.draw(loss, collapse="module").source
    boxes = _boxes(src)
    assert len(boxes) == 4  # 3 hidden neurons + the output neuron
    assert all("Neuron" in b for b in boxes)
    n1 = next(b for b in boxes if "L1.n1" in b)
    assert "3 params" in n1  # 2 weights + bias
    neuron = model.layers[0].neurons[0]
    norm = sum(p.grad ** 2 for p in neuron.parameters()) ** 0.5
    assert f"‖grad‖ {viz.fmt(norm)}" in n1
    assert "L1.n1.w1" not in src  # the parameters are inside the box


def test_module_collapse_by_depth_gives_one_box_per_layer():
    model, loss = _mlp_loss()
    src = viz.draw(loss, collapse=2).source
    boxes = _boxes(src)
    assert len(boxes) == 3 and all("Layer" in b for b in boxes)
    assert any("272 params" in b for b in boxes)  # 16 * (16 + 1)
    assert viz.draw(loss, collapse="module:2").source == src
    total = sum(int(re.search(r"(\d+) params", b).group(1)) for b in boxes)
    assert total == model.num_parameters()


def test_every_node_lands_in_its_own_module():
    model, loss = _mlp_loss((2, 1))
    order = topological_order([loss])
    paths, modules = scope.assign(order)
    for name, p in model.named_parameters():
        assert paths[id(p)][-1] == p.label.split(".")[-2], name  # "L1.n2.w1" -> n2
    assert modules[paths[id(model.layers[0].neurons[1].b)]] is model.layers[0].neurons[1]


def test_scope_for_code_outside_modules():
    x = Value(1.0, label="x")
    with scope.scope("block"):
        h = (x * 2.0).tanh() + 1.0
        scope.mark(h, inputs=[x])
    y = h * 3.0
    y.backward()
    src = viz.draw(y, collapse="module").source
    boxes = _boxes(src)
    # x*2.0, tanh, +1.0: three nodes (a Python number is kept inside its op)
    assert len(boxes) == 1 and "block" in boxes[0] and "3 nodes" in boxes[0]
    with pytest.raises(RuntimeError, match="outside"):
        scope.mark(h)


def test_label_fallback_without_scope_records(monkeypatch):
    monkeypatch.setattr(scope, "ENABLED", False)
    _, loss = _mlp_loss((2, 1))
    boxes = _boxes(viz.draw(loss, collapse="module").source)
    assert len(boxes) == 3 and any(b.startswith('<TABLE') and "L1.n1" in b for b in boxes)


def test_repeat_collapse_groups_identical_neurons():
    _, loss = _mlp_loss()
    src = viz.draw(loss, collapse="repeat").source
    boxes = _boxes(src)
    assert sum("16 ×" in b for b in boxes) == 2  # both hidden layers
    assert len(re.findall(r"^\tn\d+ \[", src, flags=re.M)) < 10


def test_repeat_collapse_on_a_graph_without_modules():
    x = [Value(0.5, label="x1"), Value(-1.0, label="x2")]
    outs = []
    for j in range(8):
        w = [Value(0.1 * j, label=f"w{j}{i}") for i in range(2)]
        outs.append(sum((wi * xi for wi, xi in zip(w, x)), Value(0.0)).relu())
    y = sum(outs, Value(0.0))
    y.backward()
    boxes = _boxes(viz.draw(y, collapse="repeat").source)
    assert any(b.count("8 ×") == 1 for b in boxes)


@pytest.mark.parametrize("bad", ["modules", "module:0", 0, True, "repeat:2"])
def test_bad_collapse_values(bad):
    _, loss = _mlp_loss((2, 1))
    with pytest.raises(ValueError, match="collapse"):
        viz.draw(loss, collapse=bad)


def test_collapsed_text_is_deterministic():
    a = viz.draw(_mlp_loss()[1], collapse="repeat").source
    b = viz.draw(_mlp_loss()[1], collapse="repeat").source
    assert a == b


def test_grouping_covers_each_node_once():
    _, loss = _mlp_loss()
    order = topological_order([loss])
    g = group(order, loss, "repeat", set())
    members = [id(n) for box in g.boxes.values() for n in box.members]
    assert len(members) == len(set(members)) == len(g.of)


@needs_dot
def test_mlp_renders_both_ways(tmp_path):
    _, loss = _mlp_loss()
    full = viz.render(loss, tmp_path / "full.svg", collapse="none")  # (404 values: auto-collapsed)
    small = viz.render(loss, tmp_path / "small.svg", collapse="module")
    assert open(full).read().count("<g id=\"node") > 400
    assert 10 < open(small).read().count("<g id=\"node") < 60


def test_scope_records_keep_nothing_alive():
    import gc
    import weakref
    model = nn.MLP(2, [3, 1], seed=0)
    y = model([0.5, -1.0])
    refs = [weakref.ref(model), weakref.ref(y)]
    del model, y
    gc.collect()
    assert all(r() is None for r in refs)


def _loss_of_freed_model(refs=None):
    """A lecture helper: builds a 2-2-1 network and returns only the loss
    (``refs``: a list to append a weak reference to the model to)."""
    import weakref
    model = nn.MLP(2, [2, 1], activation="sigmoid", out_activation="sigmoid")
    if refs is not None:
        refs.append(weakref.ref(model))
    model.set_weights(1.0, 0.5)
    loss = nn.MSELoss()(model([Value(0.1, label="length"), Value(0.2, label="width")]), 1.0)
    loss.backward()
    return loss


def test_the_drawing_is_the_same_whether_or_not_the_model_was_kept():
    gone = _loss_of_freed_model()
    model = nn.MLP(2, [2, 1], activation="sigmoid", out_activation="sigmoid")
    model.set_weights(1.0, 0.5)
    kept = nn.MSELoss()(model([Value(0.1, label="length"), Value(0.2, label="width")]), 1.0)
    kept.backward()
    boxes = _boxes(viz.draw(gone, collapse="module").source)
    assert len(boxes) == 4 and sum("3 params" in b for b in boxes) == 3, boxes
    assert any("MLP.L1.n2" in b and "Neuron" in b for b in boxes), boxes
    for collapse in ("module", 2, None):
        assert viz.draw(gone, collapse=collapse).source == viz.draw(kept, collapse=collapse).source
    assert viz.draw(gone).source.count("#dcfce7") == 9  # the parameters are green


def test_a_graph_whose_model_is_gone_is_freed_by_reference_counting():
    import gc
    import weakref
    refs: list = []
    loss = _loss_of_freed_model(refs)
    assert refs[0]() is not None  # the graph keeps its model (for names and parameters)
    refs += [weakref.ref(loss), weakref.ref(loss.parents[0])]
    gc.disable()
    try:
        del loss
        assert all(r() is None for r in refs)
    finally:
        gc.enable()


def test_module_returning_its_input_and_nested_names():
    class Identity(nn.Module):
        def forward(self, x):
            return x

    class Net(nn.Module):
        def __init__(self):
            self.pre = Identity()
            self.body = nn.Neuron(2, "tanh", seed=0)

        def forward(self, x):
            return self.body(self.pre(x))

    net = Net()
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    y = net([a, b]) * 2.0
    y.backward()
    paths, modules = scope.assign(topological_order([y]))
    assert paths[id(net.body.b)] == ("Net", "body") and id(a) not in paths
    assert type(modules[("Net", "body")]).__name__ == "Neuron"
    boxes = _boxes(viz.draw(y, collapse="module").source)
    assert len(boxes) == 1 and "Net.body" in boxes[0] and "3 params" in boxes[0]


def test_many_box_edges_are_bundled():
    _, loss = _mlp_loss()
    assert "concentrate=true" in viz.draw(loss, collapse="module").source  # 16 x 16 edges
    assert "concentrate" not in viz.draw(loss, collapse=2).source


def test_an_unrolled_loop_is_a_box_of_its_middle_steps_named_after_one_step():
    # y = tanh(y * 1.01 + 0.01) twelve times: twelve steps, the output's tanh ending the last
    x = Value(0.5, label="x")
    y = x
    for _ in range(12):
        y = (y * 1.01 + 0.01).tanh()
    y.backward()
    d = _model.build(y, collapse="repeat")
    (box,) = d.grouping.boxes.values()
    assert box.kind == "loop" and box.title == "8 × (× → + → tanh)", box
    assert box.extra == "steps 3-10 of 12" and len(box.members) == 24
    drawn = [it.node for it in d.values if d.box_of(it.index) is None]
    assert x in drawn and y in drawn and len(drawn) == 37 - 24  # two steps at each end
    # a chain with no period is a plain region box; it holds the input z, counted as one
    z = Value(0.3, label="z")
    for i in range(2, 40):  # sin at the primes, tanh elsewhere
        z = z.sin() if all(i % k for k in range(2, i)) else z.tanh()
    z.backward()
    boxes = _boxes(viz.draw(z, collapse="repeat").source)
    assert len(boxes) == 1 and " × (" not in boxes[0] and "1 input · 38 nodes" in boxes[0]
    assert "params" not in boxes[0]
    _net, loss = _mlp_loss((3, 1))
    boxes = _boxes(viz.draw(loss, collapse="module").source)
    assert all(re.search(r"\b\d+ params? ·", b) for b in boxes)


def _loop_chain(steps):
    y = Value(0.5, label="x")
    for _ in range(steps):
        y = (y * 1.01 + 0.01).tanh()
    y.backward()
    return y


@pytest.mark.parametrize("n", [30, 100])
def test_a_loop_box_counts_every_step_and_two_are_drawn_at_each_end(n):
    # a 30-step loop was "25 × (× → + → tanh) · steps 3-27 of 29" (the step the
    # output's tanh ends was not counted), with three steps drawn after the box
    x, w, b = Value(0.1, label="y"), Value(0.9, label="w"), Value(0.05, label="b")
    y = x
    for _ in range(n):
        y = (y * w + b).tanh()
    y.backward()
    d = _model.build(y, collapse="repeat")
    (box,) = d.grouping.boxes.values()
    assert (box.title, box.extra) == (f"{n - 4} × (× → + → tanh)", f"steps 3-{n - 2} of {n}")
    drawn = [it.node for it in d.values if d.box_of(it.index) is None]
    assert sum(1 for v in drawn if v.op == "tanh") == 4  # steps 1, 2 and n - 1, n


def test_a_picture_too_long_to_read_folds_its_loop_unless_asked_not_to(capsys):
    from gradviz.viz.dot import diagram
    short, long_ = _loop_chain(15), _loop_chain(25)  # 46 and 76 values deep
    assert _boxes(viz.draw(short).source) == []
    capsys.readouterr()
    boxes = _boxes(viz.draw(long_).source)
    assert len(boxes) == 1 and "21 × (× → + → tanh)" in boxes[0]  # 25 steps: 2 + 21 + 2
    assert "steps 3-23 of 25" in boxes[0]
    assert "76 values deep, too long to read in one picture" in capsys.readouterr().err
    assert _boxes(viz.draw(long_, collapse="none").source) == []
    # the step page pans to the active node: its chain stays whole
    assert diagram(long_, who="steps", fold_loops=False).grouping is None


@needs_dot
def test_the_step_page_keeps_a_long_loop_whole():
    page = viz.steps(_loop_chain(25)).html
    assert "(× → + → tanh)" not in page and "too long to read" not in page


def test_a_loss_summed_over_many_samples_folds_the_samples_between_the_ends():
    # the micrograd demo's shape: one forward pass per sample, the losses summed in a chain
    import random

    from gradviz.viz.dot import diagram
    rng = random.Random(0)
    net = nn.MLP(2, [8, 1], seed=0)
    xs = [[Value(rng.uniform(-2, 2)), Value(rng.uniform(-2, 2))] for _ in range(80)]
    total = sum(((1 - net(x)).relu() for x in xs), Value(0.0))
    total.backward()
    d = diagram(total)
    loops = [b for b in d.grouping.boxes.values() if b.kind == "loop"]
    assert len(loops) == 1 and loops[0].title == "76 × (Σ → relu → - → +)", loops
    inputs = {id(v) for x in xs for v in x}
    drawn_inputs = [it for it in d.values if id(it.node) in inputs and d.box_of(it.index) is None]
    # the first two and last two steps' samples (the output's own the last): 2 inputs each
    assert len(drawn_inputs) == 8
    assert _model.cost(d, _model._compact(d, 300)) <= _model.DOT_BUDGET


@pytest.mark.parametrize("collapse", ["module", 2])
def test_an_output_made_inside_a_module_is_drawn_after_that_modules_box(collapse):
    # MLP(2, [2, 1])'s output is the last neuron's Σ itself: its box must sit
    # between the first layer and the output, not beside the first layer with
    # the first layer's boxes wired straight into the output's op
    model = nn.MLP(2, [2, 1], seed=0)
    out = model([Value(1.0, label="x0"), Value(2.0, label="x1")])
    out.backward()
    d = _model.build(out, collapse=collapse)
    last = "MLP.L2.n1" if collapse == "module" else "MLP.L2"
    first = ["MLP.L1.n1", "MLP.L1.n2"] if collapse == "module" else ["MLP.L1"]
    root = f"n{len(d.values) - 1}"
    pairs = {(e.src, e.dst) for e in _model.edges(d, compact=False)}
    box = {k: d.box_ids[k] for k in d.grouping.boxes}
    assert (box[last], root) in pairs                     # the box computes the output
    assert all((box[f], box[last]) in pairs for f in first)
    assert not any(dst in (root, root + "op") and src != box[last] for src, dst in pairs)
    src = viz.draw(out, collapse=collapse).source
    assert f"{root}op" not in src                          # its op is in the box
    assert f"\t{root} [label=" in src                      # and the output is drawn


def test_module_collapse_of_a_graph_no_module_made_falls_back_to_the_automatic_one(capsys):
    # 1,500 unrolled steps and no nn module: 'module' boxes nothing, and the whole
    # chain went to dot (which crashed); now it is said, and the loop folded as if unset
    x = Value(0.5, label="x")
    y = x
    for _ in range(1500):
        y = (y * 0.9 + 0.1).tanh()
    g = viz.draw(y, collapse="module")
    err = capsys.readouterr().err
    assert "collapse='module' found nothing to box" in err
    assert "unrolled loop" in err
    assert len(_boxes(g.source)) == 1


def test_render_names_itself_for_an_unknown_option(tmp_path):
    with pytest.raises(TypeError, match=r"render\(\) got an unexpected keyword argument "
                                        r"'colour'.*show_grad"):
        viz.render(Value(1.0) * 2.0, tmp_path / "k.svg", colour="red")
    assert not (tmp_path / "k.svg").exists()


def _box_graph_has_a_cycle(d):
    succ: dict = {}
    for e in _model.edges(d, compact=True):
        if e.src != e.dst:
            succ.setdefault(e.src, set()).add(e.dst)
    state: dict = {}

    def visit(u):  # iterative enough for a few dozen units
        state[u] = 1
        for v in succ.get(u, ()):
            if state.get(v) == 1 or (v not in state and visit(v)):
                return True
        state[u] = 2
        return False
    return any(visit(u) for u in list(succ) if u not in state)


def test_automatic_collapse_picks_a_grouping_a_reader_takes_in(capsys):
    # a teacher's case: MLP(2, [16, 16, 1]) over 10 samples, 1,038 values. 'repeat'
    # fits Graphviz but left 678 values drawn (a 1:35 tower); one box per layer reads
    from gradviz.viz.dot import diagram
    model = nn.MLP(2, [16, 16, 1], seed=1)
    loss = sum(((model([0.1 * i, -0.2 * i]) - (1.0 if i % 2 else -1.0)) ** 2
                for i in range(10)), Value(0.0))
    loss.backward()
    d = diagram(loss)
    assert sorted(b.title for b in d.grouping.boxes.values()) == ["MLP.L1", "MLP.L2", "MLP.L3"]
    assert len(d.drawn_values()) + len(d.grouping.boxes) <= _model.READABLE
    err = capsys.readouterr().err
    # the note gives the graph's real size, not a layout cost score
    assert "the graph has 1,038 values and 6,770 edges" in err and "collapse='module:2'" in err


def test_a_sample_loop_around_layer_boxes_splits_so_no_boxes_feed_each_other():
    # the micrograd demo's loss: each sample's inputs go into the layers and its loss
    # comes out; one loop box holding both made a cycle with the layer boxes
    import random

    from gradviz.viz.dot import diagram
    rng = random.Random(0)
    net = nn.MLP(2, [16, 16, 1], seed=0)
    xs = [[Value(rng.uniform(-2, 2)), Value(rng.uniform(-2, 2))] for _ in range(100)]
    total = sum(((1 - net(x)).relu() for x in xs), Value(0.0))
    total.backward()
    d = diagram(total)
    titles = sorted(b.title for b in d.grouping.boxes.values())
    assert "96 × inputs" in titles and "96 × (- → relu → +)" in titles, titles
    assert not _box_graph_has_a_cycle(d)


def test_the_neurons_of_a_layer_are_drawn_in_their_order():
    # dot put MLP.L1's boxes as n3 n4 n1 n2 (any order crosses as many edges)
    model = nn.MLP(3, [4, 4, 1], seed=0)
    out = model([Value(1.0, label="x0"), Value(2.0, label="x1"), Value(-1.0, label="x2")])
    out.backward()
    d = _model.build(out, collapse="module")
    src = viz.draw(out, collapse="module").source
    for layer in ("MLP.L1", "MLP.L2"):
        ids = [d.box_ids[f"{layer}.n{i}"] for i in range(1, 5)]
        assert "{rank=same; " + " -> ".join(ids) + " [style=invis]}" in src
    # boxes one after another (Linear -> ReLU -> Linear) are not put on one rank
    seq = nn.Sequential(nn.Linear(3, 4, seed=0), nn.ReLU(), nn.Linear(4, 2, seed=1))
    from gradviz import Tensor
    y = seq(Tensor([[1.0, 2.0, 3.0]])).sum()
    y.backward()
    assert "rank=same; m" not in viz.draw(y, collapse="module").source


def test_a_loop_with_a_mean_and_a_regulariser_after_it_is_still_found():
    # micrograd's demo loss: mean of the per-sample losses plus 1e-4 * sum(p * p): two
    # ops after the sample loop hid it, and dot was stopped after 60 s on 1,277 values
    import random

    from gradviz.viz.dot import diagram
    rng = random.Random(1)
    net = nn.MLP(2, [16, 16, 1], seed=0)
    xs = [[Value(rng.uniform(-2, 2)), Value(rng.uniform(-2, 2))] for _ in range(100)]
    losses = [(1 + -(1.0 if i % 2 else -1.0) * net(x)).relu() for i, x in enumerate(xs)]
    total = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in net.parameters())
    total.backward()
    d = diagram(total)
    titles = sorted(b.title for b in d.grouping.boxes.values())
    assert "96 × inputs" in titles and "333 × (× → +)" in titles, titles
    assert len(d.drawn_values()) + len(d.grouping.boxes) <= _model.READABLE
    assert not _box_graph_has_a_cycle(d)


def test_an_edge_standing_for_several_says_how_many_in_words():
    # bare numbers (3072, 25600) on the edges between boxes meant nothing to a class
    model = nn.MLP(3, [4, 4, 1], seed=0)
    out = model([Value(1.0, label="x0"), Value(2.0, label="x1"), Value(-1.0, label="x2")])
    out.backward()
    src = viz.draw(out, collapse=2).source
    assert re.search(r'm\d+ -> m\d+ \[label="16 edges" tooltip="16 edges of the graph, drawn '
                     r'as one"', src), src
