"""The step page inline in Jupyter: a real notebook executed by nbclient
(ipykernel), its HTML output loaded in Chromium (headless, via Playwright)."""
import os
import shutil

import pytest

CHROMIUM = os.environ.get("GRADVIZ_CHROMIUM", "/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}"),
    pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed"),
]
nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
sync_api = pytest.importorskip("playwright.sync_api")

CELLS = [
    "from gradviz import viz\nfrom gradviz.viz.demo import car_tax\nct = car_tax()\n"
    "ct['total'].backward()",
    "viz.steps(ct['total'], title='car tax')",
    "viz.draw_steps(ct['total'])",
    "ct['price'].grad",
]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(
                                         tmp_path_factory.mktemp("nb"))}})
    client.execute()
    return [c.outputs for c in nb.cells]


def html_of(outs) -> str:
    for o in outs:
        if "text/html" in o.get("data", {}):
            return o["data"]["text/html"]
    raise AssertionError(f"no HTML output in {outs!r}")


def test_the_notebook_shows_the_page_inline_and_leaves_grads_alone(outputs):
    for cell in (1, 2):
        html = html_of(outputs[cell])
        assert html.startswith('<iframe sandbox="allow-scripts"')
        assert "<script" not in html  # the page is in srcdoc, escaped
    assert outputs[3][0]["data"]["text/plain"] == "2.2"  # showing the steps changed no grad


@pytest.mark.parametrize("cell", [1, 2])
def test_the_inline_page_works_offline_in_chromium(outputs, cell):
    html = html_of(outputs[cell])
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu"])
        page = b.new_page(viewport={"width": 1200, "height": 900})
        errors, requests = [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.set_content("<!DOCTYPE html><html><body>" + html + "</body></html>")
        frame = page.frame_locator("iframe")
        frame.locator("#counter").wait_for()
        assert frame.locator("#counter").inner_text().startswith("forward: the inputs")
        frame.locator("#last").click()
        assert "dtotal/dprice = 2.2" in frame.locator("#panel").inner_text()
        frame.locator("#n2").click()
        assert frame.locator("#panel .head").inner_text().startswith("step 2: subtotal")
        assert errors == []
        assert all(not u.startswith(("http:", "https:")) for u in requests), requests
        b.close()
