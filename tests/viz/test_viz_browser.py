"""The step-through page in a real browser: Debian's Chromium, headless,
driven by Playwright (no browser download: launched from /usr/bin/chromium).

Set-up (./dev.sh test does it): ``apt-get install chromium`` and the test
extras (``pip install -e .[test]``, which brings ``playwright``).
"""
import html
import os
import re

import pytest

from gradviz import viz
from gradviz.autograd import Value
from gradviz.viz import backend
from gradviz.viz.demo import car_tax

CHROMIUM = os.environ.get("GRADVIZ_CHROMIUM", "/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}"),
]
sync_api = pytest.importorskip("playwright.sync_api")


def launch(p):
    return p.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--no-first-run"])


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture(scope="module", params=["dot", "graphviz-pure"])
def car_page(request, tmp_path_factory):
    """The car-tax page, laid out once by the system Graphviz and once by graphviz-pure."""
    d = tmp_path_factory.mktemp("car")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(backend.RENDERER_ENV, request.param)
        return viz.steps_html(car_tax()["total"], d / "car_tax.html")


def open_page(browser, path, width=1200, height=800):
    page = browser.new_page(viewport={"width": width, "height": height})
    errors, requests = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: requests.append(r.url))
    page.goto("file://" + str(path))
    page.errors, page.requests = errors, requests
    return page


def frame(page) -> int:
    return int(page.evaluate("document.body.dataset.frame"))


def head(page) -> str:
    return page.locator("#panel .head").inner_text()


def cell(page, nid: str, from_end: int) -> str:
    """A drawn node's text cell, counted from the end (0: the grad, 1: the data)."""
    return page.evaluate(
        "([id, k]) => { const t = document.getElementById(id).querySelectorAll('text');"
        " return t[t.length - 1 - k].textContent; }", [nid, from_end])


def fill_of(page, nid: str) -> str:
    return page.evaluate(
        "id => document.getElementById(id).querySelector('path, polygon, ellipse')"
        ".getAttribute('fill')", nid)


# the car tax: n0 price, n1 count, n2 subtotal, n3 tax, n4 total
# frames: 0 forward (inputs), 1 subtotal, 2 total, 3 seed, 4 total's step,
#         5 subtotal's step, 6 done

def test_buttons_keys_and_slider_step_and_fill_in_numbers(browser, car_page):
    page = open_page(browser, car_page)
    assert page.locator("#counter").inner_text() == "forward: the inputs"
    assert page.locator("#counter").get_attribute("title") == "frame 1 of 7"
    assert page.locator("#prev").is_disabled()
    assert cell(page, "n2", 1) == "data ?" and cell(page, "n0", 1) == "data 15"
    assert cell(page, "n0", 0) == "grad ?"
    page.click("#next")
    assert head(page) == "forward: subtotal = price × count = 30"
    assert page.locator("#counter").inner_text() == "forward step 1 of 2"
    assert cell(page, "n2", 1) == "data 30"
    assert fill_of(page, "n2") == "#fbcfe8"  # the forward highlight (pink: no role's colour)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert head(page).startswith("backward pass: seed dtotal/dtotal = 1")
    assert cell(page, "n4", 0) == "grad 1" and cell(page, "n2", 0) == "grad ?"
    page.keyboard.press("ArrowRight")
    assert head(page) == "step 1: total (op ×) has grad 1"
    assert page.locator("#counter").inner_text() == "backward step 1 of 2"
    assert page.locator("#counter").get_attribute("title") == "frame 5 of 7"
    assert fill_of(page, "n4") == "#fef08a" and fill_of(page, "n2") != "#fef08a"
    assert cell(page, "n2", 0) == "grad 1.1" and cell(page, "n3", 0) == "grad 30"
    hot = page.evaluate("[...document.querySelectorAll('g.edge')].filter("
                        "g => g.querySelector('path').getAttribute('stroke') === '#dc2626').length")
    assert hot == 3  # subtotal -> ×, tax -> ×, × -> total
    page.keyboard.press("ArrowRight")
    panel = page.locator("#panel").inner_text()
    assert "subtotal: grad 1.1 × local 2 = 2.2 → price (running sum 2.2)" in panel
    assert "subtotal: grad 1.1 × local 15 = 16.5 → count (running sum 16.5)" in panel
    assert page.locator("#counter").inner_text().startswith("backward step 2 of 2")
    assert cell(page, "n0", 0) == "grad 2.2" and cell(page, "n1", 0) == "grad 16.5"
    page.keyboard.press("End")
    assert frame(page) == 6 and "dtotal/dprice = 2.2" in page.locator("#panel").inner_text()
    assert page.locator("#counter").inner_text().startswith("done")
    assert page.locator("#next").is_disabled() and page.locator("#last").is_disabled()
    page.keyboard.press("ArrowRight")  # past the end: stays
    assert frame(page) == 6
    page.keyboard.press("Home")
    assert frame(page) == 0 and cell(page, "n0", 0) == "grad ?" and cell(page, "n2", 1) == "data ?"
    page.locator("#slider").fill("4")
    assert frame(page) == 4 and cell(page, "n2", 0) == "grad 1.1"
    page.click("#last")
    page.click("#prev")
    assert frame(page) == 5
    page.click("#first")
    assert frame(page) == 0
    assert page.errors == []
    assert all(u.startswith("file://") for u in page.requests), page.requests
    page.close()


def test_click_a_node_jumps_to_its_step(browser, car_page):
    page = open_page(browser, car_page)
    page.click("#n2")  # subtotal
    assert frame(page) == 5 and head(page).startswith("step 2: subtotal")
    page.click("#n4")
    assert frame(page) == 4
    page.click("#n0")  # a leaf: where its gradient arrives
    assert frame(page) == 5
    page.close()


def test_hover_card_shows_op_rule_data_grad_and_local_derivatives(browser, car_page):
    page = open_page(browser, car_page)
    page.keyboard.press("End")
    page.hover("#n2")
    card = page.locator("#card")
    assert card.is_visible()
    text = card.inner_text()
    assert "subtotal" in text and "op: ×" in text and "data 30" in text
    assert "grad 1.1" in text
    assert "→ price: × 2 [d/dprice = count]" in text and "→ count: × 15 [d/dcount = price]" in text
    page.mouse.move(2, 2)
    assert not card.is_visible()
    page.hover("#n0")  # a leaf: says so once
    text = card.inner_text()
    assert "price" in text and "op: leaf\n" in text and text.count("leaf") == 1
    page.close()


def test_search_by_label(browser, car_page):
    page = open_page(browser, car_page)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"
    page.keyboard.type("SUB")
    assert page.locator("#results button").all_inner_texts() == ["subtotal  ·  × (mul)"] or \
        page.locator("#results button").count() == 1
    page.keyboard.press("Enter")
    assert frame(page) == 5
    # the node found is ringed (a leaf's step is another node's: it must be told apart)
    assert page.evaluate("document.querySelectorAll('#view g.found').length") == 1
    assert "subtotal" in page.evaluate("document.querySelector('#view g.found').textContent")
    page.keyboard.press("ArrowRight")  # the next step clears the ring
    assert page.evaluate("document.querySelectorAll('#view g.found').length") == 0
    page.locator("#search").fill("nothing-like-this")
    assert page.locator("#results button").count() == 0
    page.close()


def _view(page):
    """(scale, x, y) of the graph's transform in the view."""
    return [float(v) for v in page.locator("#view").get_attribute("data-view").split()]


def test_zoom_pan_and_fit(browser, car_page):
    page = open_page(browser, car_page)
    home = _view(page)
    box = page.locator("#view").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)  # wheel up: zoom in
    page.wait_for_function(f"() => parseFloat(document.getElementById('view')"
                           f".getAttribute('data-view')) > {home[0]}")
    zoomed = _view(page)
    page.mouse.move(box["x"] + 100, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 300, box["y"] + 140, steps=5)
    page.mouse.up()
    panned = _view(page)
    assert panned[0] == zoomed[0]
    assert panned[1] == pytest.approx(zoomed[1] + 200) and panned[2] == pytest.approx(zoomed[2] + 100)
    assert frame(page) == 0  # a drag is not a click
    page.keyboard.press("f")
    assert _view(page) == home
    page.mouse.wheel(0, 400)
    page.wait_for_function(f"() => parseFloat(document.getElementById('view')"
                           f".getAttribute('data-view')) < {home[0]}")
    page.click("#fit")
    assert _view(page) == home
    # the whole graph is in view when fitted
    g = page.locator("#view svg").bounding_box()
    assert g["x"] >= box["x"] - 1 and g["x"] + g["width"] <= box["x"] + box["width"] + 1
    page.close()


def test_play_pause_speed_and_space(browser, car_page):
    page = open_page(browser, car_page)
    page.select_option("#speed", "1")
    page.click("#play")
    assert page.locator("#play").get_attribute("aria-label") == "pause"
    page.select_option("#speed", "100")  # faster while playing
    page.wait_for_function("() => document.body.dataset.frame === '6'")  # plays to the end, stops
    page.wait_for_function("() => document.getElementById('play').getAttribute('aria-label') === 'play'")
    page.keyboard.press("Home")
    page.select_option("#speed", "1")
    page.keyboard.press(" ")
    assert page.locator("#play").get_attribute("aria-label") == "pause"
    page.keyboard.press(" ")
    assert page.locator("#play").get_attribute("aria-label") == "play"
    page.close()


def test_without_the_forward_pass_the_page_starts_at_the_seed(browser, tmp_path):
    path = viz.steps_html(car_tax()["total"], tmp_path / "b.html", forward=False)
    page = open_page(browser, path)
    assert page.evaluate("document.body.dataset.phase") == "s"
    assert cell(page, "n2", 1) == "data 30" and cell(page, "n4", 0) == "grad 1"
    page.close()


def test_markup_labels_stay_text_everywhere(browser, tmp_path):
    a = Value(2.0, label="</script><script>document.title='pwned'</script>")
    b = Value(1.0, label="<img src=x onerror=\"document.title='img'\">")
    y = a * 3.0 + b
    y.label = "<b>y</b>"
    path = viz.steps_html(y, tmp_path / "x.html")
    page = open_page(browser, path)
    page.keyboard.press("End")
    title = page.title()
    assert "pwned" not in title and "img" not in title
    assert page.locator("img").count() == 0 and page.locator("#view svg b").count() == 0
    page.keyboard.press("/")
    page.keyboard.type("<img")
    assert page.locator("#results button").first.inner_text().startswith(b.label)
    page.keyboard.press("Escape")
    page.hover("#" + viz.model.build(y).values[-1].key)  # the root
    assert "<b>y</b>" in page.locator("#card").inner_text()
    assert "d<b>y</b>/d" in page.locator("#panel").inner_text()
    assert page.errors == []
    page.close()


def test_a_leaf_root_page_says_there_are_no_steps(browser, tmp_path):
    path = viz.steps_html(Value(4.0, label="x"), tmp_path / "leaf.html")
    page = open_page(browser, path)
    page.keyboard.press("End")
    assert "no backward steps" in page.locator("#panel").inner_text()
    assert page.errors == []
    page.close()


def big_graph(n_terms: int) -> Value:
    """sum of x_i * w_i + tanh: about 4 values per term."""
    total = Value(0.0, label="start")
    for i in range(n_terms):
        x = Value(0.01 * (i % 7 - 3), label=f"x{i}")
        w = Value(0.5, label=f"w{i}")
        total = total + x * w
    return total.tanh()


def test_a_5000_node_page_loads_and_steps_without_errors(browser, tmp_path):
    root = big_graph(1250)  # 5,002 values
    path = viz.steps_html(root, tmp_path / "big.html")
    page = open_page(browser, path)
    n = page.evaluate("window.gradviz.units")
    assert n >= 5000
    page.keyboard.press("End")
    assert "done" in head(page)
    page.keyboard.press("ArrowLeft")
    page.evaluate("window.gradviz.go(4000)")
    assert frame(page) == 4000
    page.keyboard.press("/")
    page.keyboard.type("w1249")
    page.keyboard.press("Enter")
    assert head(page).startswith("step")
    assert page.errors == []
    page.close()


# the whole graph in view and filling it (one side touches, or the zoom cap 1.5)
FITTED = """() => {
  const v = document.getElementById('view'), vb = v.getBoundingClientRect();
  const g = v.querySelector('svg').getBoundingClientRect();
  const L = vb.left + v.clientLeft, T = vb.top + v.clientTop, w = v.clientWidth, h = v.clientHeight;
  const s = parseFloat(v.getAttribute('data-view'));
  return w > 0 && h > 0 && g.left >= L - 0.5 && g.right <= L + w + 0.5
    && g.top >= T - 0.5 && g.bottom <= T + h + 0.5
    && (Math.abs(g.width - w) < 1 || Math.abs(g.height - h) < 1 || s === 1.5);
}"""


@pytest.mark.parametrize("hidden", ["display:none", "width:0;height:0"])
def test_a_page_in_an_iframe_shown_after_it_loaded_fits_when_shown(browser, car_page, hidden):
    """Jupyter shows the page in an iframe that can be laid out (given a size)
    after the page's script ran: the view is fitted once it has a size, and
    f fits (it had measured the graph as 1 × 1 px and zoomed to 1.5 on its corner)."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    src = html.escape(open(car_page, encoding="utf-8").read(), quote=True)
    page.set_content(f'<!DOCTYPE html><html><body><iframe sandbox="allow-scripts" '
                     f'style="{hidden};border:0" srcdoc="{src}"></iframe></body></html>')
    inner = page.frames[1]
    inner.wait_for_function("() => document.body.dataset.frame === '0'")
    page.evaluate("() => { const f = document.querySelector('iframe');"
                  " f.style.cssText = 'display:block;width:1100px;height:720px;border:0'; }")
    inner.wait_for_function(FITTED, timeout=5000)
    # the panel is sized from its width, once it has one
    inner.wait_for_function("() => document.getElementById('panel').style"
                            ".getPropertyValue('--lines') !== ''", timeout=5000)
    fitted = _view(inner)
    inner.locator("#next").click()  # stepping keeps the fitted view
    assert _view(inner) == fitted
    inner.locator("body").press("f")
    assert _view(inner) == fitted and inner.evaluate(FITTED)
    page.evaluate("() => { document.querySelector('iframe').style.width = '700px'; }")
    inner.wait_for_function("() => document.getElementById('view').clientWidth < 700")
    inner.wait_for_function(FITTED, timeout=5000)  # a fitted view follows a resize
    assert _view(inner)[0] < fitted[0]
    assert errors == []
    page.close()


def active_in_view(page) -> bool:
    """The highlighted (active) node, backward or forward, is inside the view."""
    return page.evaluate(
        "() => { const v = document.getElementById('view').getBoundingClientRect();"
        " const on = [...document.querySelectorAll('#view g.node')].filter(g =>"
        " ['#fef08a', '#fbcfe8'].includes(g.querySelector('path, polygon, ellipse')"
        ".getAttribute('fill')));"
        " return on.length > 0 && on.every(g => { const r = g.getBoundingClientRect();"
        " return r.left >= v.left && r.right <= v.right && r.top >= v.top && r.bottom <= v.bottom; }); }")


def test_fit_of_a_long_graph_keeps_a_readable_scale_around_the_current_step(browser, tmp_path):
    """A long chain (one row about 14,500 px wide) fitted whole would be drawn at
    scale 0.08, an empty-looking box: fit stops at a readable scale, shows the
    current step's node, and the page says the graph is larger than the view."""
    x, acc = Value(0.5, label="x"), Value(0.0, label="acc0")
    for _ in range(10):
        acc = (acc * 0.9 + x).tanh()
    path = viz.steps_html(acc, tmp_path / "long.html", rankdir="LR")
    page = open_page(browser, path)
    floor = 0.5
    start = _view(page)
    assert start[0] == floor
    assert page.locator("#big").is_visible()
    assert "larger than the view" in page.locator("#big").inner_text()
    g, v = page.locator("#view svg").bounding_box(), page.locator("#view").bounding_box()
    assert g["x"] <= v["x"] + 1 and g["x"] + g["width"] >= v["x"] + v["width"] - 1  # no empty margin
    for f in (40, 55):  # backward steps in the middle of the chain
        page.evaluate(f"window.gradviz.go({f})")
        page.mouse.move(v["x"] + v["width"] / 2, v["y"] + v["height"] / 2)
        page.mouse.wheel(0, 2000)  # zoom far out ...
        page.wait_for_function(f"() => parseFloat(document.getElementById('view')"
                               f".getAttribute('data-view')) < {floor / 2}")
        page.keyboard.press("f")  # ... and fit: the readable scale, at the active node
        assert _view(page)[0] == floor
        assert page.evaluate("document.body.dataset.phase") == "b" and active_in_view(page)
    page.keyboard.press("End")
    page.keyboard.press("f")
    assert _view(page)[0] == floor  # the done frame: around the last step
    page.evaluate("window.gradviz.go(32)")  # the first backward step: the root, at the right end
    page.keyboard.press("f")
    page.evaluate("window.gradviz.go(1)")  # the first op, at the chain's left end: shown ...
    assert active_in_view(page)
    g = page.locator("#view svg").bounding_box()  # ... with the graph still filling the view
    assert g["x"] <= v["x"] + 1 and g["x"] + g["width"] >= v["x"] + v["width"] - 1
    # a graph that fits at a readable scale says nothing
    small = open_page(browser, viz.steps_html(car_tax()["total"], tmp_path / "car.html"))
    assert _view(small)[0] > floor and not small.locator("#big").is_visible()
    assert page.errors == [] and small.errors == []
    small.close()
    page.close()


def neuron_page(tmp_path):
    from gradviz.nn.scalar import Neuron
    n = Neuron(4, seed=0, name="h")
    y = n([Value(0.1 * i + 0.2, label=f"x{i + 1}") for i in range(4)])
    return viz.steps_html(y, tmp_path / "neuron.html")


PANEL = """() => { const p = document.getElementById('panel').getBoundingClientRect(),
  v = document.getElementById('view').getBoundingClientRect(), q = document.getElementById('panel');
  return {top: p.top, height: p.height, viewBottom: v.bottom, viewHeight: v.height,
          scrolls: q.scrollHeight > q.clientHeight + 1}; }"""


@pytest.mark.parametrize("size", [(1200, 800), (700, 500)])
def test_the_text_panel_fits_a_neurons_sum_step_without_covering_the_graph(browser, tmp_path, size):
    """The Σ step of a 4-input neuron is 10 lines: the panel (once 9.2em, about
    5 lines) shows them without inner scrolling when the window has room, grows
    at most to 38% of the window, and never overlaps the graph."""
    page = open_page(browser, neuron_page(tmp_path), *size)
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    assert head(page).startswith("step 2: v9 (op Σ)")
    assert page.locator("#panel .line").count() == 9
    p = page.evaluate(PANEL)
    assert p["top"] >= p["viewBottom"] and p["viewHeight"] >= 0.4 * size[1] - 1
    assert p["height"] <= 0.38 * size[1] + 1
    if size[1] >= 800:
        assert not p["scrolls"]
    page.close()


def test_the_counter_counts_the_steps_the_panel_numbers(browser, tmp_path):
    """The counter said "21 / 37 · backward" (frames) beside a panel saying
    "step 2": it now says the panel's step, the frame only in its tooltip."""
    page = open_page(browser, neuron_page(tmp_path))
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    assert head(page).startswith("step 2: ")
    assert page.locator("#counter").inner_text() == "backward step 2 of 2"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert page.locator("#counter").inner_text().startswith("backward: the seed")
    page.close()


@pytest.mark.parametrize("doc", ["README.md", "docs/guides/stepping.md"])
def test_the_docs_name_the_colours_the_page_gives_the_active_node(browser, car_page, doc):
    """The README said the active node "turns red"; the page fills it yellow
    and draws its border red (forward: pink, deep-pink border; it was the
    parameters' pale green, so the node being computed looked like a parameter)."""
    import pathlib
    readme = (pathlib.Path(__file__).parents[2] / doc).read_text("utf-8")
    start = readme.index("replays the")
    para = " ".join(readme[start:].split()[:60])
    names = {"#fef08a": "yellow", "#dc2626": "red", "#fbcfe8": "pink", "#db2777": "deep-pink"}
    page = open_page(browser, car_page)
    said = []
    for f in (1, 4):  # a forward step, a backward step
        page.evaluate(f"window.gradviz.go({f})")
        fill, stroke = page.evaluate(
            "() => { const g = [...document.querySelectorAll('#view g.node')].find(g =>"
            " ['#fef08a', '#fbcfe8'].includes(g.querySelector('path, polygon, ellipse')"
            ".getAttribute('fill'))); const s = [...g.querySelectorAll('path, polygon, ellipse')];"
            " return [s[0].getAttribute('fill'), s.map(e => e.getAttribute('stroke'))"
            ".find(c => ['#dc2626', '#db2777'].includes(c))]; }")
        said.append(f"{names[fill]} with a {names[stroke]} border")
    assert "turns red" not in para
    assert f"filled {said[1]} ({said[0]} in the forward pass)" in para, (said, para)
    page.close()


def edge_number(page, src: str, dst: str):
    """The edge src -> dst's first label text (its local derivative's number) and
    whether it is shown."""
    return page.evaluate(
        "([s, d]) => { const g = [...document.querySelectorAll('g.edge')].find("
        "g => g.querySelector('title').textContent === s + '->' + d);"
        " const t = g.querySelector('text');"
        " return [t.textContent, getComputedStyle(t).visibility]; }", [src, dst])


def test_forward_frames_show_an_edges_number_only_once_its_op_is_computed(browser, tmp_path):
    # a teacher's report: in the first frame price*count read "data ?" while the edge
    # from tax already said "× 30" (made of price*count's value)
    price, count, tax = Value(15.0, label="price"), Value(2.0, label="count"), \
        Value(1.1, label="tax")
    total = price * count * tax
    total.label = "total"
    page = open_page(browser, viz.steps_html(total, tmp_path / "t.html"))
    # n0 price, n1 count, n2 price*count, n3 tax, n4 total
    assert cell(page, "n2", 1) == "data ?"
    assert edge_number(page, "n3", "n4op") == ["× 30", "hidden"]
    assert edge_number(page, "n2", "n4op") == ["× 1.1", "hidden"]
    assert edge_number(page, "n0", "n2op") == ["× 2", "hidden"]
    page.mouse.move(2, 2)
    page.hover("#n4")                                  # the card holds them back too
    text = page.locator("#card").inner_text()
    assert "\ndata ?\n" in text and "data 33" not in text
    assert "→ tax [d/db = a]" in text and "× 30" not in text
    page.mouse.move(2, 2)
    page.keyboard.press("ArrowRight")                  # price*count = 30
    assert cell(page, "n2", 1) == "data 30"
    assert edge_number(page, "n0", "n2op") == ["× 2", "visible"]
    assert edge_number(page, "n3", "n4op") == ["× 30", "hidden"]
    page.keyboard.press("ArrowRight")                  # total = 33
    assert edge_number(page, "n3", "n4op") == ["× 30", "visible"]
    page.hover("#n4")
    text = page.locator("#card").inner_text()
    assert "\ndata 33\n" in text and "→ tax: × 30 [d/db = a]" in text
    page.keyboard.press("End")                         # the backward pass reads them all
    assert edge_number(page, "n2", "n4op") == ["× 1.1", "visible"]
    page.keyboard.press("Home")                        # and going back hides them again
    assert edge_number(page, "n3", "n4op") == ["× 30", "hidden"]
    assert page.errors == []
    page.close()
    # without the forward pass every number is there from the first frame
    page = open_page(browser, viz.steps_html(total, tmp_path / "b.html", forward=False))
    assert edge_number(page, "n3", "n4op") == ["× 30", "visible"]
    page.close()


def test_a_small_networks_loss_fits_a_1280x800_projector(browser, tmp_path):
    """MLP(2, [2, 1]) with a squared-error loss: the panel grew to 38% of the window
    to hold the 12 inputs or gradients, one a line, and the graph's output (ŷ, L)
    was cut off even after f. The lists now run in columns, and the panel leaves
    the graph the room to fit at a readable scale (a long step scrolls instead)."""
    from test_viz_steps import small_mlp_loss
    page = open_page(browser, viz.steps_html(small_mlp_loss(), tmp_path / "mlp.html"),
                     1280, 800)
    for where in ("Home", "End"):  # the inputs, then the gradients
        page.keyboard.press(where)
        page.keyboard.press("f")
        assert not page.locator("#big").is_visible()
        v = page.locator("#view").bounding_box()
        for label in ("ŷ", "L"):
            b = page.locator("#view g.node").filter(
                has=page.locator("text", has_text=re.compile(f"^{label}$"))).bounding_box()
            assert v["y"] <= b["y"] and b["y"] + b["height"] <= v["y"] + v["height"], label
            assert v["x"] <= b["x"] and b["x"] + b["width"] <= v["x"] + v["width"], label
        p = page.evaluate(PANEL)
        assert not p["scrolls"]  # every input or gradient shown, no scrolling
        assert page.locator("#panel .line").count() == 12
    assert page.evaluate(PANEL)["height"] < 0.2 * 800
    assert page.errors == []
    page.close()


def test_a_stale_graphs_page_says_its_numbers_will_not_add_up(browser, tmp_path):
    """backward(), an optimiser's step, then the page: the new weights beside the
    old results, silently. The page now says so above the graph."""
    from test_viz_steps import part_lifetime_loss

    from gradviz import nn
    model, loss = part_lifetime_loss()
    page = open_page(browser, viz.steps_html(loss, tmp_path / "fresh.html"), 1280, 800)
    assert not page.locator("#stale").is_visible()
    page.close()
    loss.backward()
    nn.optim.SGD(model.parameters(), lr=0.5).step()
    page = open_page(browser, viz.steps_html(loss, tmp_path / "stale.html"), 1280, 800)
    note = page.locator("#stale")
    assert note.is_visible()
    assert "values changed since it was computed" in note.inner_text()
    assert "recompute the forward pass" in note.inner_text()
    assert page.errors == []
    page.close()


@pytest.mark.parametrize("size", [(1280, 800), (1440, 900), (1280, 720)])
def test_the_panel_shows_every_steps_arithmetic_whole(browser, tmp_path, size):
    """Part-lifetime backward step 8, a neuron's Σ of 5 contributions: the panel was
    65 px tall for 154 px of text at 1280x800 (and at 1440x900, and in a notebook's
    720 px frame), so most of the step's arithmetic was hidden. Every step now shows
    whole; the graph's view is what shrinks."""
    from test_viz_steps import part_lifetime_loss
    _, loss = part_lifetime_loss()
    page = open_page(browser, viz.steps_html(loss, tmp_path / "part.html"), *size)
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    assert page.locator("#counter").inner_text() == "backward step 8 of 8"
    assert page.locator("#panel .line").count() == 5
    for f in range(page.evaluate("window.gradviz.frames")):
        page.evaluate(f"window.gradviz.go({f})")
        if page.evaluate("document.body.dataset.phase") not in ("f", "b", "s"):
            continue
        p = page.evaluate("() => { const q = document.getElementById('panel');"
                          " return [q.scrollHeight, q.clientHeight]; }")
        assert p[0] <= p[1], (f, p)
    p = page.evaluate(PANEL)
    assert p["top"] >= p["viewBottom"] and p["height"] <= 0.38 * size[1] + 1
    assert page.errors == []
    page.close()


OVERLAP = """() => { const n = document.getElementById('big'); if (n.hidden) { return null; }
  const D = JSON.parse(document.getElementById('gv-data').textContent),
    u = D.frames[window.gradviz.frame()][0];
  if (u < 0) { return null; }
  const g = document.getElementById(D.units[u].id);
  const a = g.getBoundingClientRect(), b = n.getBoundingClientRect(),
    v = document.getElementById('view').getBoundingClientRect();
  return {under: a.left < b.right && a.right > b.left && a.top < b.bottom && a.bottom > b.top,
          inView: a.top >= v.top && a.bottom <= v.bottom && a.left >= v.left && a.right <= v.right}; }"""


def test_the_larger_than_the_view_note_never_covers_the_active_node(browser, tmp_path):
    """At 1280x800 the seed frame's node (the loss, at the graph's bottom edge) sat
    under the "graph larger than the view" note; and the note stayed after zooming
    out until the whole graph was in view."""
    from test_viz_steps import part_lifetime_loss
    _, loss = part_lifetime_loss()
    page = open_page(browser, viz.steps_html(loss, tmp_path / "part.html"), 1280, 800)
    assert page.locator("#big").is_visible()
    for f in range(page.evaluate("window.gradviz.frames")):
        page.evaluate(f"window.gradviz.go({f})")
        if page.evaluate("document.body.dataset.phase") == "s":
            page.keyboard.press("f")  # fitted at the seed, as the page opens there
        where = page.evaluate(OVERLAP)
        if where is not None and page.evaluate("document.body.dataset.phase") in "fsb":
            assert where == {"under": False, "inView": True}, (f, where)
    v = page.locator("#view").bounding_box()
    page.mouse.move(v["x"] + v["width"] / 2, v["y"] + v["height"] / 2)
    page.mouse.wheel(0, 2000)  # zoom far out: the whole graph is in view
    page.wait_for_function("() => parseFloat(document.getElementById('view')"
                           ".getAttribute('data-view')) < 0.3")
    assert not page.locator("#big").is_visible()
    page.keyboard.press("f")  # back to the readable scale around the step: said again
    assert page.locator("#big").is_visible()
    assert page.errors == []
    page.close()
