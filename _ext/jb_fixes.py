"""Small Sphinx fixes for a Jupyter Book 1 (Sphinx 7.4) site.

Duplicate inline <script>s: an extension that calls ``app.add_js_file(None, body=...)``
after ``Builder.init()`` (sphinx-thebe on ``env-before-read-docs``, sphinx-togglebutton
on ``builder-inited``) gets its script registered twice on Sphinx 7.4: once as
``_JavaScript(None)`` by ``app.add_js_file`` and once as ``_JavaScript('')`` by
``StandaloneHTMLBuilder.prepare_writing``; ``None != ''`` so Sphinx's de-duplication
misses it.  sphinx-thebe's script is ``const THEBE_JS_URL = ...``, so the second copy
throws "SyntaxError: Identifier 'THEBE_JS_URL' has already been declared" on every page.
We drop the repeated entries just before each page is rendered.

Static files: _ext/static/ is added to html_static_path (-> _build/html/_static/), e.g.
jb-fixes/ipywidgets-mathjax3.js, listed in nb_ipywidgets_js before the widget embedder.
"""
from pathlib import Path

STATIC = str(Path(__file__).parent / "static")


def _key(js):
    return (js.filename or "", js.priority, tuple(sorted((k, str(v)) for k, v in js.attributes.items())))


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    files = context.get("script_files")
    if not files:
        return
    seen, unique = set(), []
    for js in files:
        k = _key(js)
        if k not in seen:
            seen.add(k)
            unique.append(js)
    files[:] = unique  # same list object the builder renders and later restores


def _add_static_path(app):
    if STATIC not in app.config.html_static_path:
        app.config.html_static_path.append(STATIC)


def setup(app):
    app.connect("builder-inited", _add_static_path)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
