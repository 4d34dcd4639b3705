"""The step-through page in a real browser: Debian's Chromium, headless,
driven by Playwright (no browser download: launched from /usr/bin/chromium).

Set-up (./dev.sh test does it): ``apt-get install chromium`` and the test
extras (``pip install -e .[test]``, which brings ``playwright``).
"""
import os

import pytest

from gradviz import viz
from gradviz.viz import backend
from gradviz.viz.demo import car_tax

CHROMIUM = os.environ.get("GRADVIZ_CHROMIUM", "/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}"),
]
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture(autouse=True, params=["dot", "graphviz-pure"])
def renderer(request, monkeypatch):
    """Every page is made once by the system Graphviz and once by graphviz-pure."""
    monkeypatch.setenv(backend.RENDERER_ENV, request.param)
    return request.param


def _active(page):
    sec = page.locator("section.frame:not([hidden])")
    return sec.get_attribute("data-label"), sec.locator(".panel").inner_text()


def _node_html(page) -> str:
    """The SVG of the visible frame's active node (found by its DOT id)."""
    return page.evaluate("""() => {
        const sec = document.querySelector('section.frame:not([hidden])');
        const id = sec.getAttribute('data-active');
        for (const g of sec.querySelectorAll('g.node')) {
            const t = g.querySelector('title');
            if (t && t.textContent === id) { return g.innerHTML; }
        }
        return '';
    }""")


def test_step_page_buttons_keys_slider(browser, tmp_path):
    path = viz.steps_html(car_tax()["total"], tmp_path / "car_tax.html")
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto("file://" + str(path))
    assert page.locator("section.frame").count() == 4
    assert page.locator("#counter").inner_text() == "1 / 4"
    assert page.locator("#prev").is_disabled()
    label, panel = _active(page)
    assert label == "" and "start" in panel

    page.click("#next")
    label, panel = _active(page)
    assert label == "total"
    assert "total: grad 1 × local 1.1 = 1.1 → subtotal (running sum 1.1)" in panel
    # the active node is drawn in the highlight colour in the visible frame
    assert viz.dot.COLOURS["active"][0] in _node_html(page)
    assert ">total<" in _node_html(page)

    page.keyboard.press("ArrowRight")
    label, panel = _active(page)
    assert label == "subtotal" and ">subtotal<" in _node_html(page)
    assert "subtotal: grad 1.1 × local 2 = 2.2 → price (running sum 2.2)" in panel
    assert "subtotal: grad 1.1 × local 15 = 16.5 → count (running sum 16.5)" in panel
    assert page.locator("#counter").inner_text() == "3 / 4"
    page.screenshot(path=str(tmp_path / "step2.png"), full_page=True)
    assert os.path.getsize(tmp_path / "step2.png") > 10_000

    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # past the end: stays on the last frame
    label, panel = _active(page)
    assert "done" in panel and "dtotal/dprice = 2.2" in panel
    assert page.locator("#next").is_disabled()

    page.keyboard.press("ArrowLeft")
    assert _active(page)[0] == "subtotal"
    page.locator("#slider").fill("1")
    assert _active(page)[0] == "total"
    assert page.locator("#counter").inner_text() == "2 / 4"
    fitted = page.locator("#fit").is_checked()
    page.keyboard.press("f")
    assert ("fit" in page.evaluate("document.body.className")) is (not fitted)
    assert page.locator("#fit").is_checked() is (not fitted)
    assert all(u.startswith("file://") for u in requests), requests
    page.close()


def test_slightly_too_wide_diagram_starts_fitted_in_view(browser, tmp_path):
    path = viz.steps_html(car_tax()["total"], tmp_path / "narrow.html")
    page = browser.new_page(viewport={"width": 700, "height": 600})
    page.goto("file://" + str(path))
    assert page.locator("#fit").is_checked()
    svg = page.locator(".frame:not([hidden]) .svg svg").bounding_box()
    assert svg["x"] >= 0 and svg["x"] + svg["width"] <= 700  # the output node is not cut off
    page.keyboard.press("f")
    assert not page.locator("#fit").is_checked()
    page.close()


def test_script_label_is_text_in_the_browser(browser, tmp_path):
    from gradviz.autograd import Value
    a = Value(2.0, label="<script>document.title='pwned'</script>")
    y = a * 3.0
    y.label = "<b>y</b>"
    path = viz.steps_html(y, tmp_path / "x.html")
    page = browser.new_page()
    page.goto("file://" + str(path))
    page.click("#next")
    assert page.title() != "pwned"
    assert "<b>y</b>" in _active(page)[1]  # shown literally
    assert page.locator("section.frame:not([hidden]) svg b").count() == 0
    page.close()
