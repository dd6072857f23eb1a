"""Helpers for the book's notebooks: show the library's own source, set up Colab."""

from __future__ import annotations

import inspect

__all__ = ["show_source"]


def show_source(obj, start: str | None = None):
    """Display the source of a library class or function, syntax-highlighted.

    The book prints code from the installed package, never a copy, so a chapter cannot drift
    from the library. ``start`` skips to the first line containing that text (e.g. "def forward").
    Returns an :class:`IPython.display.Code`, whose plain-text form is the source itself.
    """
    from IPython.display import Code

    source = inspect.getsource(obj)
    if start is not None:
        lines = source.splitlines(keepends=True)
        first = next((i for i, line in enumerate(lines) if start in line), None)
        if first is None:
            raise ValueError(f"show_source: {start!r} does not occur in the source of {obj.__qualname__}")
        indent = len(lines[first]) - len(lines[first].lstrip())
        source = "".join(line[indent:] if line.strip() else line for line in lines[first:])
    return Code(source, language="python")
