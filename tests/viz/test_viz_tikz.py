"""TikZ output (.tex): compiled by a real pdfLaTeX run, read back with poppler's
pdftotext / pdftoppm."""
import os
import re
import shutil
import subprocess
import unicodedata

import numpy as np
import pytest

from gradviz import Value, viz
from gradviz.viz.cli import main
from gradviz.viz.demo import car_tax, part_lifetime
from gradviz.viz.tikz import render_tikz, tex_escape, tikz_from_dot

pytestmark = [
    pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed"),
    pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed"),
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed"),
]

SPECIALS = "\\ { } $ & # ^ _ % ~"


def compile_doc(tmp_path, body: str, preamble: str = "", name: str = "doc") -> str:
    """pdflatex a document holding ``body``; returns the PDF's path."""
    tex = tmp_path / f"{name}.tex"
    tex.write_text("\\documentclass{article}\n"
                   "\\usepackage[paperwidth=40cm,paperheight=30cm,margin=1cm]{geometry}\n"
                   f"{preamble}\n\\usepackage{{tikz}}\n\\pagestyle{{empty}}\n"
                   f"\\begin{{document}}\n{body}\n\\end{{document}}\n", encoding="utf-8")
    res = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                         cwd=tmp_path, capture_output=True, timeout=300)
    log = (tmp_path / f"{name}.log").read_text("latin-1") if (tmp_path / f"{name}.log").exists() \
        else res.stdout.decode("latin-1")
    assert res.returncode == 0, "pdflatex failed:\n" + "\n".join(
        ln for ln in log.splitlines() if ln.startswith("!") or "Error" in ln)[:3000]
    errors = [ln for ln in log.splitlines() if ln.startswith("!")]
    assert not errors, errors
    return str(tmp_path / f"{name}.pdf")


def pdf_text(pdf: str) -> str:
    return subprocess.run(["pdftotext", pdf, "-"], capture_output=True, check=True,
                          text=True).stdout


def pdf_pixels(pdf: str, dpi: int = 40) -> np.ndarray:
    out = pdf[:-4] + "-page"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-singlefile", pdf, out], check=True)
    raw = open(out + ".ppm", "rb").read()
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", raw)
    w, h = int(m.group(1)), int(m.group(2))
    return np.frombuffer(raw[m.end():], dtype=np.uint8).reshape(h, w, 3)


def has_colour(px: np.ndarray, rgb, tol: int = 6, area: int = 40) -> bool:
    """Is there a filled area (not just anti-aliased edge pixels) of colour ``rgb``?"""
    near = np.all(np.abs(px.astype(int) - np.array(rgb)) <= tol, axis=-1)
    return int(near.sum()) >= area


def special_graph():
    x = Value(2.0, label=SPECIALS + " a\\N")
    y = x * x
    y.label = "out_1 50% #2"
    y.backward()
    return y


def test_tex_specials_compile_and_show_literally(tmp_path):
    path = render_tikz(special_graph(), tmp_path / "special.tex")
    assert path.endswith("special.tex")
    # T1 fonts have a glyph for each special, so the PDF's text is the label itself
    pdf = compile_doc(tmp_path, "\\input{special.tex}", "\\usepackage[T1]{fontenc}")
    text = pdf_text(pdf)
    assert SPECIALS + " a\\N" in text, text
    assert "out_1 50% #2" in text and "grad 4" in text and "data 4" in text
    # and with LaTeX's default (OT1) fonts it compiles too
    compile_doc(tmp_path, "\\input{special.tex}", name="ot1")


def test_car_tax_picture_numbers_and_document_font(tmp_path):
    ct = car_tax()
    ct["total"].backward()
    render_tikz(ct["total"], tmp_path / "car.tex", legend=True)
    src = (tmp_path / "car.tex").read_text(encoding="utf-8")
    assert "\\begin{tikzpicture}" in src and "Helvetica" not in src
    pdf = compile_doc(tmp_path, "\\input{car.tex}")
    text = pdf_text(pdf)
    for want in ("price", "data 15", "grad 2.2", "subtotal", "grad 1.1", "total", "data 33",
                 "d/dsubtotal = tax", "legend"):
        assert want in text, want
    fonts = subprocess.run(["pdffonts", pdf], capture_output=True, text=True, check=True).stdout
    assert "CMR" in fonts.upper() and "HELVETICA" not in fonts.upper()  # the document's font


def test_every_role_is_a_style_a_document_can_restyle(tmp_path):
    model, _, loss = part_lifetime()
    loss.backward()
    render_tikz(loss, tmp_path / "net.tex", params=model.parameters())
    src = (tmp_path / "net.tex").read_text(encoding="utf-8")
    for style in ("input", "parameter", "constant", "intermediate", "output", "op", "grad",
                  "edge", "text"):
        assert f"\\gradvizstyle{{{style}}}" in src, style
    for used in ("gradviz/input", "gradviz/parameter", "gradviz/intermediate",
                 "gradviz/output", "gradviz/op", "gradviz/grad", "gradviz/edge"):
        assert f"[{used}" in src, used
    yellow, magenta = (255, 255, 0), (255, 0, 255)
    fit = "\\resizebox{\\linewidth}{!}{\\input{net.tex}}"  # the network is wider than the page
    plain = pdf_pixels(compile_doc(tmp_path, fit, name="plain"))
    styled = pdf_pixels(compile_doc(  # a style and a colour defined before \input win
        tmp_path, "\\tikzset{gradviz/parameter/.style={fill={rgb,255:red,255;green,255;blue,0},"
                  " draw=black}}\\definecolor{gradvizOutputFill}{HTML}{FF00FF}" + fit,
        name="styled"))
    param_fill, output_fill = (0xdc, 0xfc, 0xe7), (0xff, 0xed, 0xd5)
    assert has_colour(plain, param_fill) and has_colour(plain, output_fill)
    assert not has_colour(plain, yellow) and not has_colour(plain, magenta)
    assert has_colour(styled, yellow) and not has_colour(styled, param_fill)
    assert has_colour(styled, magenta) and not has_colour(styled, output_fill)


def test_a_picture_larger_than_the_page_shrinks_to_fit_unless_asked_not_to(tmp_path):
    # the part-lifetime network on a 12 cm x 9 cm page: \input alone must fit it
    model, _, loss = part_lifetime()
    loss.backward()
    render_tikz(loss, tmp_path / "net.tex", params=model.parameters())
    small = "\\geometry{paperwidth=12cm,paperheight=9cm,margin=1cm}"

    def overfull(name):
        log = (tmp_path / f"{name}.log").read_text("latin-1")
        return re.findall(r"Overfull \\[hv]box \((\d+\.\d+)pt too (?:wide|high)", log)

    pdf = compile_doc(tmp_path, "Text.\n\n\\input{net.tex}", small, name="fitted")
    assert overfull("fitted") == []
    pages = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", pages, flags=re.M), pages
    assert "Linear" in pdf_text(pdf) or "L1" in pdf_text(pdf)  # the picture is there
    compile_doc(tmp_path, "\\def\\gradviznatural{}\\input{net.tex}", small, name="natural")
    assert any(float(v) > 50 for v in overfull("natural"))  # far wider than the line


def test_tex_escape_table():
    assert tex_escape("a_b") == "a\\_b"
    assert tex_escape("x--y") == "x-{}-y"
    assert tex_escape("×σ") == "\\ensuremath{\\times}\\ensuremath{\\sigma}"
    assert "\\gradvizu{日}{65E5}" in tex_escape("日")
    assert tex_escape("a  b") == "a \\ b"


def test_unicode_labels_compile_with_pdflatex(tmp_path):
    x = Value(0.5, label="日本 α→β ‖g‖ ½ é")
    y = x.sigmoid() * x.tanh() / x.sqrt()
    y.backward()
    render_tikz(y, tmp_path / "u.tex")
    text = unicodedata.normalize("NFC", pdf_text(compile_doc(tmp_path, "\\input{u.tex}")))
    assert "é" in text and "α→β" in text and "?" in text  # 日本 cannot be shown by pdfLaTeX's fonts: '?'


def test_tikz_from_dot_accepts_any_draw_source(tmp_path):
    ct = car_tax()
    ct["total"].backward()
    tex = tikz_from_dot(viz.draw(ct["total"], collapse="repeat").source)
    assert tex.count("\\begin{tikzpicture}") == 1 and tex.count("\\end{tikzpicture}") == 1
    assert tex.rstrip().endswith("\\end{lrbox}%\n\\gradvizshow%")


def test_render_tikz_bad_paths(tmp_path):
    y = special_graph()
    with pytest.raises(ValueError, match=r"\.tex"):
        render_tikz(y, tmp_path / "a.svg")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        render_tikz(y, tmp_path / "missing" / "a.tex")


def test_cli_expr_writes_tex(tmp_path, capsys):
    out = tmp_path / "car.tex"
    assert main(["expr", "price=15; count=2; tax=1.1; total=price*count*tax", "-o",
                 str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    text = pdf_text(compile_doc(tmp_path, "\\input{car.tex}"))
    assert "grad 2.2" in text and "price*count" in text
    assert os.path.getsize(out) > 1000


def test_accented_letters_of_ml_notation_print_with_pdflatex(tmp_path, capsys):
    # ŷ (one code point), x̂ and x̄ (a letter and a combining accent), ŵ, θ′: what a
    # slide about predictions and means is written with; they printed as '?'
    x = Value(2.0, label="x̄")
    w = Value(0.5, label="ŵ′")
    y_hat = x * w
    y_hat.label = "ŷ"
    y_hat.backward()
    render_tikz(y_hat, tmp_path / "hat.tex")
    assert "?" not in capsys.readouterr().err  # nothing to warn about
    text = unicodedata.normalize("NFC", pdf_text(compile_doc(tmp_path, "\\input{hat.tex}")))
    assert "?" not in text
    assert "ŷ" in text and "x̄" in text and "ŵ" in text
    assert tex_escape("x\u0302") == "\\^{x}" and tex_escape("ĩ") == "\\~{\\i}"


def test_characters_pdflatex_cannot_show_are_said_when_the_file_is_written(tmp_path, capsys):
    x = Value(1.0, label="日")
    (x * 2.0).backward()
    render_tikz(x * 2.0, tmp_path / "cjk.tex")
    assert "日 print as ? with pdfLaTeX" in capsys.readouterr().err


def test_subscript_and_superscript_digits_print_with_pdflatex(tmp_path, capsys):
    # inputs labelled x₁, x₂ (and the CLI's own x₁ for a name assigned again): with
    # pdfLaTeX, Beamer's default engine, they printed as '?' with a warning
    x1, w2 = Value(2.0, label="x₁"), Value(3.0, label="w₂")
    y = x1 * w2
    y.label = "y₁₂"
    z = y * Value(0.5, label="xⁿ⁻¹")
    z.label = "z²"
    z.backward()
    render_tikz(z, tmp_path / "sub.tex")
    assert "print as ?" not in capsys.readouterr().err  # nothing to warn about
    assert tex_escape("x₁₂") == "x\\ensuremath{_{12}}"  # a run is one script
    assert tex_escape("ŷ₁") == "\\^{y}\\ensuremath{_{1}}"
    assert tex_escape("x²") == "x\\ensuremath{^{2}}"
    text = pdf_text(compile_doc(tmp_path, "\\input{sub.tex}"))
    assert "?" not in text, text
    # pdftotext reads each script right after its letter (a math minus as U+2212)
    flat = re.sub(r"\s+", "", text).replace("\u2212", "-")
    for want in ("x1data2", "w2data3", "y12data6", "z2data3", "n-1data0.5"):
        assert want in flat, (want, text)
