"""A griffe extension for the API reference: the docstrings use Sphinx roles
(:func:`draw`, :class:`graphviz.Digraph`); Markdown shows them as code."""
from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|data|attr|exc|obj|const):"
                   r"`~?([^`<]+?)(?:\s*<[^`>]+>)?`")


def plain_roles(text: str) -> str:
    return _ROLE.sub(lambda m: f"`{m.group(1).strip()}`", text)


class SphinxRolesAsCode(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = plain_roles(obj.docstring.value)
