"""Browser test of the built book (`make test` runs it after the build): the website must
work from its own files alone.

Serves _build/html on 127.0.0.1 (ephemeral port), opens every page in Debian's headless
Chromium, each in a fresh context (cold cache, empty localStorage), with every request to
another host blocked (and recorded), and checks: no blocked request, no failed local request,
no console error or page error, a favicon, math typeset by MathJax, every image loaded, every
widget rendered, every slider changes what the page shows, a Colab link on every page made
from a notebook, and every page's own weight at most 3 MB.

Full-page screenshots and before/after crops of every slider go to _build/screenshots/; page
weights and slider response times to _build/page_weights.json (and a summary is printed).

Env: SITE_DIR (default _build/html), CHROMIUM (default /usr/bin/chromium).
"""
from __future__ import annotations

import functools
import http.server
import json
import os
import re
import statistics
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("SITE_DIR", ROOT / "_build" / "html")).resolve()
SHOTS = SITE.parent / "screenshots"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
COLAB = "https://colab.research.google.com"
PAGE_LIMIT = 3_000_000     # bytes a page may add to what the site's pages share (see test_page_weight)
SLIDER_LIMIT_MS = 2000     # sanity bound only: the times are reported, not held to a budget
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# theme partials copied into _static/ (webpack-macros.html ...) are not pages
SKIP_DIRS = {"_static", "_sources", "_images", "_downloads"}
META_REFRESH = re.compile(r'<meta[^>]+http-equiv="refresh"', re.I)
# Jupyter Book's index.html redirects to the root page; Sphinx adds the index and search pages.
REDIRECTS = {"index.html"}
GENERATED_PAGES = {"genindex.html", "search.html"}


def _pages_from_sources() -> list[str]:
    """The pages the build must produce, read from _toc.yml: the tests collected are the same
    whether or not (and whatever) the site is built when pytest collects them."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [ch["file"] for part in toc.get("parts", []) for ch in part["chapters"]]
    return sorted({f"{f}.html" for f in files} | REDIRECTS | GENERATED_PAGES)


def _built_pages() -> set[str]:
    return {p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html")
            if not SKIP_DIRS.intersection(p.relative_to(SITE).parts)}


PAGES = _pages_from_sources()
# pages made from a notebook: book/se.html <- book/se.ipynb
NOTEBOOK_PAGES = [p for p in PAGES if (ROOT / p).with_suffix(".ipynb").is_file()]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
RAW_MATH = [r"\(", r"\)", r"\[", r"\]", "$$", r"\begin{"]
RAW_INLINE_DOLLAR = re.compile(r"\$[^$\n]{0,200}\\[A-Za-z]+[^$\n]{0,200}\$")

# text nodes that are rendered and not code / MathJax output
VISIBLE_TEXT_JS = """() => {
  const skip = 'pre, code, script, style, textarea, .highlight, mjx-container, mjx-assistive-mml';
  const out = [];
  const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = w.nextNode());) {
    const el = n.parentElement;
    if (!el || el.closest(skip) || !el.getClientRects().length) continue;
    out.push(n.nodeValue);
  }
  return out.join(' ');
}"""

IMAGES_JS = """async () => {
  const imgs = Array.from(document.images);
  await Promise.all(imgs.map(img => {
    if (img.complete) return null;
    img.loading = 'eager';
    return new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r);
                               setTimeout(r, 10000); });
  }));
  return imgs.map(img => ({src: img.currentSrc.slice(0, 120), ok: img.complete && img.naturalWidth > 0}));
}"""

WIDGETS_JS = """() => Array.from(document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]')).map(s => {
  const prev = s.previousElementSibling;
  const sub = prev && prev.classList.contains('widget-subarea') ? prev : null;
  const w = sub && sub.querySelector('.jupyter-widgets');
  const r = w && w.getBoundingClientRect();
  return {model_id: JSON.parse(s.textContent).model_id, rendered: !!(r && r.width > 0 && r.height > 0)};
})"""

VISIBLE_IMG_SRCS_JS = """el => Array.from(el.querySelectorAll('img'))
  .filter(i => { const r = i.getBoundingClientRect(); return r.width > 0 && r.height > 0 && i.offsetParent; })
  .map(i => i.src)"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def base_url():
    assert SITE.is_dir(), f"{SITE} missing: build the book first"
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _kib(n: float) -> str:
    return f"{n / 1024:9.1f} KiB"


@pytest.fixture(scope="session")
def report(request):
    """Page weights and slider times, gathered by the tests, written and printed at the end."""
    data: dict = {"pages": {}}
    yield data
    pages = data["pages"]
    data["page_limit_bytes"] = PAGE_LIMIT
    data["shared"], own = _weigh(pages)
    for page, files in own.items():
        d = pages[page]
        del d["_files"]
        d["own_requests"], d["own_bytes"] = len(files), sum(files.values())
        d["own_largest"] = dict(sorted(files.items(), key=lambda kv: -kv[1])[:5])
    (SITE.parent / "page_weights.json").write_text(json.dumps(data, indent=2, sort_keys=True))
    pm = request.config.pluginmanager
    tr, cap = pm.get_plugin("terminalreporter"), pm.get_plugin("capturemanager")
    if tr and cap:
        with cap.global_and_fixture_disabled():
            tr.write_line("\npage weight (cold cache, uncompressed bodies + headers); 'own' = what the page"
                          f" adds to the shared assets, at most {PAGE_LIMIT / 1e6:.0f} MB:")
            for page, d in sorted(pages.items()):
                if "own_bytes" not in d:
                    continue
                ms = d.get("slider_median_ms")
                slider = f"  sliders: {len(d['slider_ms'])}, median {ms:.0f} ms" if ms is not None else ""
                tr.write_line(f"  {page:28s} {d['requests']:3d} requests {_kib(d['bytes'])}, "
                              f"own {d['own_requests']:3d} requests {_kib(d['own_bytes'])}{slider}")
            sh = data["shared"]
            tr.write_line(f"  shared by the pages, counted once: {sh['requests']} files {_kib(sh['bytes'])}")
            for path, size in sh["largest"]:
                tr.write_line(f"    {path:60s} {_kib(size)}")


def _weigh(pages: dict) -> tuple[dict, dict]:
    """Split every page's requests into the site's shared assets and the page's own files.

    Shared: anything under _static/ (theme, fonts, MathJax, the widget manager) and anything
    more than one page requested; a browser loads those once for the whole site.
    Returns ({"requests", "bytes", "largest"} of the shared assets, {page: {own path: bytes}}).
    """
    users: dict[str, set] = {}
    size: dict[str, int] = {}
    for page, d in pages.items():
        for path, n in d.get("_files", {}).items():
            users.setdefault(path, set()).add(page)
            size[path] = max(size.get(path, 0), n)
    shared = {p for p, u in users.items() if len(u) > 1 or p.startswith("/_static/")}
    own = {page: {p: n for p, n in d["_files"].items() if p not in shared}
           for page, d in pages.items() if "_files" in d}
    largest = sorted(((p, size[p]) for p in shared), key=lambda kv: -kv[1])[:8]
    return {"requests": len(shared), "bytes": sum(size[p] for p in shared), "largest": largest}, own


class LoadedPage:
    """One page opened in a fresh browser context (cold cache, empty localStorage)."""

    def __init__(self, browser, base_url: str, name: str):
        self.name = name
        self.blocked: list[str] = []
        self.failed: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.requests = []
        origin = urlsplit(base_url).netloc
        self.ctx = browser.new_context(viewport={"width": 1280, "height": 900})

        def route(r):
            if urlsplit(r.request.url).netloc == origin:
                r.continue_()
            else:
                self.blocked.append(r.request.url)
                r.abort()

        self.ctx.route("**/*", route)
        page = self.page = self.ctx.new_page()
        page.on("console", lambda m: m.type == "error" and self.console_errors.append(f"{m.text} @ {m.location}"))
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("requestfinished", lambda r: self.requests.append(r))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.url} HTTP {r.status}"))
        self.problems: dict[str, str] = {}  # stage -> error, reported by the tests that need it
        self.images: list[dict] = []
        self.shot_stem = name.replace("/", "__").removesuffix(".html")
        url = f"{base_url}/{name}"
        try:
            if META_REFRESH.search((SITE / name).read_text(errors="replace")):
                # e.g. Jupyter Book's index.html -> root page: check the page it lands on
                with page.expect_navigation(wait_until="load"):
                    page.goto(url, wait_until="commit")
                page.wait_for_url(lambda u: u != url, wait_until="load")
            else:
                page.goto(url, wait_until="load")
        except PlaywrightError as e:
            self.problems["load"] = str(e)
            return
        self._stage("widgets", lambda: page.wait_for_function(  # html-manager renders after window 'load'
            "n => document.querySelectorAll('.widget-subarea').length >= n",
            arg=page.locator(f'script[type="{WIDGET_VIEW}"]').count(), timeout=15000))
        if page.locator(".math").count():
            self._stage("mathjax", lambda: (
                page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                       timeout=15000),
                page.evaluate("() => MathJax.startup.promise")))
        self._stage("images", lambda: setattr(self, "images", page.evaluate(IMAGES_JS)))
        self._stage("networkidle", lambda: page.wait_for_load_state("networkidle", timeout=15000))
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{self.shot_stem}.png"), full_page=True)

    def _stage(self, stage, fn):
        try:
            fn()
        except PlaywrightError as e:
            self.problems[stage] = str(e).splitlines()[0]

    def require(self, *stages):
        for st in ("load", *stages):
            assert st not in self.problems, f"{self.name}: {st} failed: {self.problems[st]}"
        return self

    def weight(self) -> dict:
        """Bytes per local file this page requested (cold cache), keyed by URL path."""
        files: dict[str, int] = {}
        for req in self.requests:
            s = req.sizes()
            path = urlsplit(req.url).path
            files[path] = files.get(path, 0) + s["responseBodySize"] + s["responseHeadersSize"]
        return {"requests": len(self.requests), "bytes": sum(files.values()), "_files": files}


@pytest.fixture(scope="session")
def loaded(browser, base_url, report):
    cache: dict[str, LoadedPage] = {}

    def get(name: str) -> LoadedPage:
        if name not in cache:
            cache[name] = LoadedPage(browser, base_url, name)
            # a redirect (index.html) loads its target page: that page is weighed on its own
            report["pages"][name] = ({"redirect": True} if name in REDIRECTS
                                     else cache[name].weight())
        return cache[name]

    yield get
    for lp in cache.values():
        lp.ctx.close()


def test_found_pages():
    """The built site has exactly the pages _toc.yml asks for, and only index.html redirects."""
    assert SITE.is_dir(), f"{SITE} missing: build the book first (make book)"
    built = _built_pages()
    assert built == set(PAGES), (f"built but not in _toc.yml: {sorted(built - set(PAGES))}; "
                                 f"in _toc.yml but not built: {sorted(set(PAGES) - built)}")
    redirecting = {p for p in built if META_REFRESH.search((SITE / p).read_text(errors="replace"))}
    assert redirecting == REDIRECTS, redirecting


@pytest.mark.parametrize("name", PAGES)
def test_no_request_leaves_the_site(loaded, name):
    lp = loaded(name).require("networkidle")
    assert lp.blocked == [], f"requests to other hosts: {lp.blocked}"
    assert lp.failed == [], f"failed local requests: {lp.failed}"


@pytest.mark.parametrize("name", PAGES)
def test_no_console_or_page_error(loaded, name):
    lp = loaded(name).require()
    assert lp.page_errors == [], lp.page_errors
    assert lp.console_errors == [], lp.console_errors


@pytest.mark.parametrize("name", PAGES)
def test_declares_favicon(loaded, name):
    """Without <link rel=icon> browsers request /favicon.ico (a 404 console error, outside the site)."""
    assert loaded(name).require().page.locator('link[rel~="icon"]').count() >= 1


@pytest.mark.parametrize("name", PAGES)
def test_math_typeset(loaded, name):
    page = loaded(name).require("mathjax").page
    text = page.evaluate(VISIBLE_TEXT_JS)
    left = [m for m in RAW_MATH if m in text] + RAW_INLINE_DOLLAR.findall(text)
    assert not left, f"raw TeX left in visible text: {left}"
    n_math = page.locator(".math").count()
    untypeset = page.evaluate(
        "() => Array.from(document.querySelectorAll('.math')).filter(e => !e.querySelector('mjx-container')).length")
    assert untypeset == 0, f"{untypeset}/{n_math} math elements without mjx-container"
    assert page.locator("mjx-container").count() >= n_math
    assert page.locator("mjx-merror").count() == 0, "MathJax reported a TeX error"


@pytest.mark.parametrize("name", PAGES)
def test_images_loaded(loaded, name):
    broken = [i["src"] for i in loaded(name).require("images").images if not i["ok"]]
    assert broken == [], f"images not loaded: {broken}"


@pytest.mark.parametrize("name", PAGES)
def test_widgets_rendered(loaded, name):
    page = loaded(name).require("widgets").page
    views = page.evaluate(WIDGETS_JS)
    assert [v["model_id"] for v in views if not v["rendered"]] == []
    text = page.evaluate(VISIBLE_TEXT_JS)
    assert WIDGET_VIEW not in text and "widget-state+json" not in text


# Times a slider move in the page itself: from the key press (keydown, capture phase) to the
# first animation frame after what the widget area shows (its visible images and text, sliders
# left out) has changed, i.e. the frame that shows the new view.
SLIDER_TIMER_JS = """area => {
  const visible = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && el.offsetParent; };
  const view = () => {
    const imgs = Array.from(area.querySelectorAll('img')).filter(visible).map(i => i.src);
    const text = [];
    const w = document.createTreeWalker(area, NodeFilter.SHOW_TEXT);
    for (let n; (n = w.nextNode());) {
      const el = n.parentElement;
      if (el && !el.closest('.widget-slider') && el.getClientRects().length) text.push(n.nodeValue);
    }
    return JSON.stringify([imgs, text]);
  };
  const before = view();
  const t = window.__sliderTimer = {t0: null, dom: null, frame: null};
  window.addEventListener('keydown', () => { if (t.t0 === null) t.t0 = performance.now(); },
                          {capture: true, once: true});
  const obs = new MutationObserver(() => {
    if (t.t0 === null || t.dom !== null || view() === before) return;
    t.dom = performance.now();
    obs.disconnect();
    requestAnimationFrame(() => { t.frame = performance.now(); });
  });
  obs.observe(area, {subtree: true, childList: true, attributes: true, characterData: true});
  setTimeout(() => obs.disconnect(), 10000);
}"""


@pytest.mark.parametrize("name", PAGES)
def test_sliders_change_view(loaded, report, name):
    """Move every slider one step: what the widget shows (the slider itself masked) must change.

    Also times each move (key press -> frame showing the new view) for the report; the bound
    asserted is only a sanity check.
    """
    lp = loaded(name).require("widgets")
    page = lp.page
    tested, times = 0, []
    areas = page.locator(".widget-subarea")  # one per displayed widget output
    for a in range(areas.count()):
        area = areas.nth(a)
        sliders = area.locator(".widget-slider")
        for j in range(sliders.count()):
            slider, tag = sliders.nth(j), f"{lp.shot_stem}.slider{tested}"
            area.scroll_into_view_if_needed()
            readout = slider.locator(".widget-readout")
            before_val = readout.inner_text()
            before_srcs = area.evaluate(VISIBLE_IMG_SRCS_JS)
            before_png = area.screenshot(mask=[slider], animations="disabled")
            # noUiSlider (ipywidgets 8 views) or jQuery-UI (views for ipywidgets 7 state)
            handle = slider.locator(".noUi-handle, .ui-slider-handle").first
            handle.focus()
            area.evaluate(SLIDER_TIMER_JS)
            handle.press("ArrowRight")
            if readout.inner_text() == before_val:  # already at max
                area.evaluate(SLIDER_TIMER_JS)
                handle.press("ArrowLeft")
            after_val = readout.inner_text()
            assert after_val != before_val, f"{tag}: slider did not move"
            try:
                page.wait_for_function("() => window.__sliderTimer.frame !== null", timeout=SLIDER_LIMIT_MS)
                t = page.evaluate("() => window.__sliderTimer")
                times.append(round(t["frame"] - t["t0"], 1))
            except PlaywrightError:
                times.append(None)  # no visible change within the bound: the screenshot check decides
            page.wait_for_timeout(300)
            after_srcs = area.evaluate(VISIBLE_IMG_SRCS_JS)
            after_png = area.screenshot(mask=[slider], animations="disabled")
            (SHOTS / f"{tag}.before.png").write_bytes(before_png)
            (SHOTS / f"{tag}.after.png").write_bytes(after_png)
            assert after_png != before_png, f"{tag} ({before_val}->{after_val}) did not change the view"
            if before_srcs:
                assert after_srcs != before_srcs, f"{tag}: visible image unchanged"
            tested += 1
    assert tested == page.locator(".widget-slider").count()
    if tested and name in report["pages"]:
        timed = sorted(x for x in times if x is not None)
        report["pages"][name]["slider_ms"] = times
        report["pages"][name]["slider_median_ms"] = statistics.median(timed) if timed else None
        assert None not in times, f"sliders whose view did not change within {SLIDER_LIMIT_MS} ms: {times}"
        assert max(timed) <= SLIDER_LIMIT_MS, times


def _colab_link(page: str) -> str:
    """https://colab.research.google.com/github/<owner>/<repo>/blob/<branch>/book/<name>.ipynb"""
    repo = CONFIG["repository"]
    owner_repo = urlsplit(repo["url"]).path.strip("/").removesuffix(".git")
    path = "/".join(filter(None, [str(repo.get("path_to_book") or "").strip("/"),
                                  page.removesuffix(".html") + ".ipynb"]))
    return f"{COLAB}/github/{owner_repo}/blob/{repo.get('branch', 'main')}/{path}"


def test_colab_is_configured():
    assert CONFIG["launch_buttons"]["colab_url"].rstrip("/") == COLAB
    assert urlsplit(CONFIG["repository"]["url"]).netloc == "github.com"


@pytest.mark.parametrize("name", NOTEBOOK_PAGES)
def test_colab_link(loaded, name):
    """Every page made from a notebook opens that notebook on Colab (a link: nothing is fetched)."""
    page = loaded(name).require().page
    links = page.eval_on_selector_all(f'a[href^="{COLAB}"]', "els => els.map(e => e.href)")
    expected = _colab_link(name)
    assert links, f"no Colab link; expected {expected}"
    assert set(links) == {expected}, f"Colab links {sorted(set(links))}, expected {expected}"


@pytest.mark.parametrize("name", sorted(set(PAGES) - REDIRECTS))
def test_page_weight(loaded, report, name):
    """What a page adds to the site's shared assets (see _weigh) is at most 3 MB, cold cache."""
    for p in PAGES:  # the shared assets are known once every page has been opened
        loaded(p)
    _, own = _weigh(report["pages"])
    files = own[name]
    total = sum(files.values())
    largest = sorted(files.items(), key=lambda kv: -kv[1])[:5]
    assert total <= PAGE_LIMIT, f"{name}: {total / 1e6:.2f} MB of its own (largest: {largest})"


def test_mathjax_lazy_loads_stay_local(browser, base_url):
    """MathJax fetches TeX extensions (autoload) and a11y/speech data on demand: all from the site."""
    # Read from the built pages here, not at import: collection must not depend on the build.
    math_pages = [p for p in PAGES if 'class="math' in (SITE / p).read_text(errors="replace")]
    if not math_pages:
        pytest.skip("no page with math")
    lp = LoadedPage(browser, base_url, math_pages[0]).require("mathjax")
    try:
        page = lp.page
        for item in ("explorer", "speech", "braille"):  # MathJax menu > Accessibility
            page.evaluate(f"() => MathJax.startup.document.menu.menu.pool.lookup('{item}').setValue(true)")
        status = page.evaluate(r"""async () => {
            const d = document.createElement('div');
            d.className = 'math';
            d.textContent = '\\(\\cancel{x} + \\ce{H2O} + \\color{red}{y} + \\bbox[5px,border:1px solid]{z}\\)';
            document.body.appendChild(d);
            await MathJax.typesetPromise([d]);
            return d.querySelector('mjx-merror') ? 'merror' : d.querySelector('mjx-container') ? 'ok' : 'none';
        }""")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)
        assert status == "ok"
        assert lp.blocked == [], lp.blocked
        assert lp.failed == [], lp.failed
        assert lp.page_errors == [] and lp.console_errors == [], (lp.page_errors, lp.console_errors)
        urls = [r.url for r in lp.requests]
        assert any("/sre/mathmaps/" in u for u in urls), "speech rule engine data not requested?"
    finally:
        lp.ctx.close()
