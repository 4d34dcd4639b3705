"""Rendering with either renderer: the system Graphviz ``dot`` and graphviz-pure
(installed with gradviz-engine), chosen by ``viz.backend``. Both are real
programs here: ``./dev.sh test`` installs Graphviz and the package's
dependencies."""
import os
import re
import struct
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from gradviz import viz
from gradviz.viz import backend
from gradviz.viz.backend import GraphvizNotFoundError
from gradviz.viz.demo import car_tax

RENDERERS = ["dot", "graphviz-pure"]
SVG = "{http://www.w3.org/2000/svg}"


def _total():
    total = car_tax()["total"]
    total.backward()
    return total


def _texts(svg: bytes | str) -> Counter:
    """Every text the picture shows that has a number in it (data, grad, edge factors)."""
    root = ET.fromstring(svg.encode() if isinstance(svg, str) else svg)
    texts = ("".join(t.itertext()).strip() for t in root.iter(f"{SVG}text"))
    return Counter(t for t in texts if any(c.isdigit() for c in t))


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def no_system_dot(tmp_path, monkeypatch):
    """A PATH without Graphviz: only graphviz-pure (found beside this Python) is left."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv(backend.RENDERER_ENV, raising=False)


@pytest.mark.parametrize("renderer", RENDERERS)
def test_each_renderer_is_installed_and_chosen_when_forced(renderer, monkeypatch):
    monkeypatch.setenv(backend.RENDERER_ENV, renderer)
    r = backend.find_renderer("svg")
    assert r.name == renderer and os.access(r.path, os.X_OK)


def test_both_renderers_show_the_same_numbers_for_car_tax(tmp_path, monkeypatch):
    seen = {}
    for renderer in RENDERERS:
        monkeypatch.setenv(backend.RENDERER_ENV, renderer)
        path = viz.render(_total(), tmp_path / f"car_{renderer}.svg")
        seen[renderer] = _texts(open(path, "rb").read())
    assert seen["dot"] == seen["graphviz-pure"]
    for text in ("data 15", "grad 2.2", "grad 16.5", "grad 30", "data 33", "× 1.1", "× 30"):
        assert seen["dot"][text] >= 1, (text, seen["dot"])


@pytest.mark.parametrize("renderer", RENDERERS)
def test_png_from_each_renderer(renderer, tmp_path):
    data = backend.render_source(viz.draw(_total()).source, "png", renderer=renderer)
    width, height = _png_size(data)
    assert width > 3 * height > 0  # the car-tax graph is drawn left to right


def test_auto_prefers_the_system_dot(monkeypatch):
    monkeypatch.delenv(backend.RENDERER_ENV, raising=False)
    assert backend.find_renderer("svg").name == "dot"
    assert backend.find_renderer("pdf").name == "dot"


def test_without_system_dot_pip_install_alone_draws(no_system_dot, tmp_path):
    assert backend.find_renderer("png").name == "graphviz-pure"
    svg = viz.render(_total(), tmp_path / "car.svg")
    assert _texts(open(svg, "rb").read())["grad 2.2"] == 1
    png = viz.render(_total(), tmp_path / "car.png")
    assert _png_size(open(png, "rb").read())[0] > 100


def test_without_system_dot_jupyter_display_and_step_page_work(no_system_dot, tmp_path):
    y = _total()
    bundle = viz.draw(y)._repr_mimebundle_()
    assert _texts(bundle["image/svg+xml"])["grad 2.2"] == 1
    assert "grad 2.2" in y._repr_svg_()
    page = viz.steps_html(car_tax()["total"], tmp_path / "steps.html")
    html = open(page, encoding="utf-8").read()
    assert html.count("<svg") == 1 and "running sum 2.2" in html  # one layout, the pass as data


def test_pdf_with_only_graphviz_pure_says_to_install_graphviz(no_system_dot, tmp_path):
    with pytest.raises(GraphvizNotFoundError,
                       match=r"PDF needs the Graphviz `dot`.*apt-get install graphviz"):
        viz.render(_total(), tmp_path / "car.pdf")
    assert not (tmp_path / "car.pdf").exists()


def test_neither_renderer_is_a_clear_error_naming_both_ways(no_system_dot, tmp_path,
                                                            monkeypatch):
    monkeypatch.setattr(backend, "_fallback_dirs", list)  # graphviz-pure not found either
    with pytest.raises(GraphvizNotFoundError) as e:
        viz.render(_total(), tmp_path / "car.svg")
    msg = str(e.value)
    assert "pip install graphviz-pure" in msg and "apt-get install graphviz" in msg
    assert not (tmp_path / "car.svg").exists()
    assert viz.render(_total(), tmp_path / "car.dot")  # DOT text still needs nothing


def test_forcing_a_missing_renderer_names_it(no_system_dot, monkeypatch):
    monkeypatch.setenv(backend.RENDERER_ENV, "dot")
    with pytest.raises(GraphvizNotFoundError, match="`dot` program, which is not on PATH"):
        backend.render_source("digraph { a -> b }", "svg")


def test_unknown_renderer_is_a_value_error(monkeypatch):
    with pytest.raises(ValueError, match="unknown renderer renderer='cairo'"):
        backend.render_source("digraph { a }", "svg", renderer="cairo")
    monkeypatch.setenv(backend.RENDERER_ENV, "neato")
    with pytest.raises(ValueError, match=r"GRADVIZ_RENDERER='neato'.*auto, dot, graphviz-pure"):
        backend.find_renderer()


@pytest.mark.parametrize("renderer", RENDERERS)
def test_bold_labels_are_bold_with_either_renderer(renderer):
    svg = backend.render_source(viz.draw(_total()).source, "svg", renderer=renderer)
    root = ET.fromstring(svg)
    total = [t for t in root.iter(f"{SVG}text") if t.text == "total"]
    assert total and total[0].get("font-weight") == "bold"


@pytest.mark.parametrize("renderer", RENDERERS)
def test_a_renderer_failure_names_the_renderer(renderer):
    with pytest.raises(RuntimeError, match=f"`{renderer} -Tsvg` failed"):
        backend.render_source("digraph { a -> }", "svg", renderer=renderer)


def test_pdf_with_graphviz_pure_forced_blames_the_setting_not_a_missing_dot(tmp_path,
                                                                             monkeypatch):
    # dot is on PATH here: the message must not say it is not
    monkeypatch.setenv(backend.RENDERER_ENV, "graphviz-pure")
    with pytest.raises(GraphvizNotFoundError) as info:
        viz.render(car_tax(), tmp_path / "c.pdf")
    msg = str(info.value)
    assert "GRADVIZ_RENDERER=graphviz-pure selects graphviz-pure" in msg
    assert "not on PATH" not in msg


@pytest.mark.parametrize("renderer", RENDERERS)
def test_jpeg_from_each_renderer(renderer, tmp_path, monkeypatch):
    # the diagrams guide lists JPEG among graphviz-pure's outputs; render refused .jpg
    monkeypatch.setenv(backend.RENDERER_ENV, renderer)
    for name in ("car.jpg", "car.JPEG"):
        path = viz.render(_total(), tmp_path / name, scale=1)
        data = open(path, "rb").read()
        assert data[:3] == b"\xff\xd8\xff", data[:16]  # a JPEG's start-of-image marker
    png = viz.render(_total(), tmp_path / "car.png", scale=1)
    from PIL import Image
    with Image.open(path) as jpg:
        assert jpg.size == _png_size(open(png, "rb").read())  # the same resolution rules
    with pytest.raises(ValueError, match="dpi and scale apply to .png and .jpg"):
        viz.render(_total(), tmp_path / "car.svg", dpi=300)


@pytest.mark.parametrize(("option", "value"), [("dpi", -3), ("dpi", 0), ("dpi", float("nan")),
                                               ("dpi", True), ("dpi", "300"), ("scale", -1),
                                               ("scale", float("inf"))])
def test_render_refuses_a_dpi_or_scale_that_is_not_a_positive_number(option, value, tmp_path):
    # dpi=-3 crashed dot (and the message advised collapsing a 2-value graph); dpi=0 drew
    with pytest.raises(ValueError, match=rf"render: {option} must be a positive number, got "
                                         + re.escape(repr(value))):
        viz.render(_total(), tmp_path / "car.png", **{option: value})
    assert list(tmp_path.iterdir()) == []  # before anything is written
