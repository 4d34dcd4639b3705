#!/usr/bin/env bash
# The project's two commands (see README):
#   ./dev.sh demo        set up, then write the car-tax diagram, its step-through page and the part-lifetime network into ./out (and print a small training run)
#   ./dev.sh test [ARGS] set up, then run the whole test suite (ARGS go to pytest)
# Set-up is idempotent: a virtual environment in .venv, the package installed editable (demo: with
# its runtime dependencies only, graphviz-pure drawing when there is no system Graphviz, so no root;
# test: with its test extras, plus Graphviz `dot`, Chromium, TeX with TikZ and poppler-utils from
# the system package manager).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

VENV="${GRADVIZ_VENV:-.venv}"
PY="${PYTHON:-$(command -v python3.11 || command -v python3)}"

say() { printf '[gradviz] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@";
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@";
  else return 1; fi
}

apt_updated=""
apt_install() {  # apt_install PACKAGE... ; fails with a message saying what to install
  if ! command -v apt-get >/dev/null 2>&1; then
    say "no apt-get here: please install $* with your system package manager"; return 1
  fi
  if [ -z "$apt_updated" ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || {
      say "need root or passwordless sudo to install $*: run 'sudo apt-get install $*'"; return 1; }
    apt_updated=1
  fi
  say "installing $* (apt-get)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_dot() {
  command -v dot >/dev/null 2>&1 && return 0
  apt_install graphviz || { say "Graphviz 'dot' is required: install the 'graphviz' package"; exit 1; }
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  apt_install chromium fonts-dejavu-core || { say "Chromium is required for the browser tests: install the 'chromium' package"; exit 1; }
}

ensure_tex() {  # the TikZ (.tex) output is tested by compiling it; pdftotext/pdftoppm read the PDF
  command -v pdflatex >/dev/null 2>&1 && kpsewhich tikz.sty >/dev/null 2>&1 &&
    command -v pdftotext >/dev/null 2>&1 && return 0
  apt_install texlive-latex-base texlive-pictures poppler-utils ||
    { say "TeX is required for the TikZ tests: install texlive-latex-base, texlive-pictures and poppler-utils"; exit 1; }
}

ensure_venv() {  # ensure_venv EXTRAS: "" (the demo: runtime dependencies only) or "test"
  local extras="${1:-}"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtual environment $VENV with $PY"
    "$PY" -m venv "$VENV"
  fi
  # Strict editable mode: a link tree that mypy, pyright and IDEs resolve (the default
  # mode's import hook is invisible to them). It lists the package's files, so reinstall
  # when the metadata or the set of files changes.
  local key; key="$( { cat setup.cfg pyproject.toml;
      find src autograd nn viz -type f ! -name '*.pyc' | LC_ALL=C sort; } | sha256sum | cut -c1-16)"
  local stamp="$VENV/.stamp-$key${extras:+-$extras}"
  # the test set-up has everything the demo needs
  [ -z "$extras" ] && [ -f "$VENV/.stamp-$key-test" ] && return 0
  if [ ! -f "$stamp" ]; then
    say "installing gradviz (editable)${extras:+ with $extras extras} (log: $VENV/pip.log)"
    # The distribution was called gradviz before the namespace move; its editable finder
    # would keep the old top-level names importable.
    "$VENV/bin/python" -m pip uninstall -y -q gradviz >/dev/null 2>&1 || true
    { "$VENV/bin/python" -m pip install -q --upgrade pip &&
      "$VENV/bin/python" -m pip install --config-settings editable_mode=strict -e ".${extras:+[$extras]}"; } \
      >"$VENV/pip.log" 2>&1 || {
      tail -n 30 "$VENV/pip.log" >&2; say "pip install failed (full log: $VENV/pip.log)"; exit 1; }
    rm -f "$VENV"/.stamp-* && touch "$stamp"
  fi
}

cmd="${1:-}"; shift || true
case "$cmd" in
  demo)
    ensure_venv ""   # draws with the system dot when there is one, else graphviz-pure
    exec "$VENV/bin/gradviz" demo "$@"
    ;;
  test)
    ensure_dot; ensure_chromium; ensure_tex; ensure_venv test
    export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"
    export GRADVIZ_NO_SKIPS="${GRADVIZ_NO_SKIPS:-1}"   # everything is installed: a skip is a set-up bug
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  *)
    echo "usage: ./dev.sh demo | ./dev.sh test [pytest args]" >&2; exit 2
    ;;
esac
