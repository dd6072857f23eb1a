// Copies the browser assets the website needs from node_modules/ (made by `npm ci` from the
// committed package-lock.json) into _vendor/_static/npm/. `_config.yml` lists _vendor in
// html_extra_path, so Sphinx copies it verbatim into _build/html/ and the pages load
// _static/npm/... from the site itself: no CDN. Run by `make book` as `npm run vendor`.
import { cpSync, rmSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const nm = join(root, "node_modules");
const out = join(root, "_vendor", "_static", "npm");
rmSync(join(root, "_vendor"), { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const version = (pkg) => JSON.parse(readFileSync(join(nm, pkg, "package.json"), "utf8")).version;

// MathJax 3: the combined component the pages load (tex-mml-chtml.js) and everything it loads
// lazily (fonts, TeX extensions for \require and autoload, the menu, a11y and speech data).
// Left out: the other combined builds, latest.js (it goes to a CDN) and the SVG output.
const mj = join(nm, "mathjax", "es5");
const mjSkip = /^(tex-svg|tex-mml-svg|mml-svg|tex-chtml-full|tex-svg-full|tex-chtml-full-speech|node-main|latest)\.js$|^output\/svg/;
cpSync(mj, join(out, "mathjax"), {
  recursive: true,
  filter: (src) => !mjSkip.test(src.slice(mj.length + 1).split("\\").join("/")),
});

// Jupyter widgets HTML manager: embed.js (self-contained: it bundles the built-in widgets and
// needs neither require.js nor a CDN) and the Font Awesome fonts it loads from next to itself.
const hm = join(nm, "@jupyter-widgets", "html-manager", "dist");
mkdirSync(join(out, "jupyter-widgets"), { recursive: true });
for (const f of readdirSync(hm)) {
  if (f === "embed.js" || f === "embed.js.LICENSE.txt" || /\.(woff2?|ttf|eot|svg)$/.test(f)) {
    cpSync(join(hm, f), join(out, "jupyter-widgets", f));
  }
}
console.log(`vendored mathjax ${version("mathjax")} and @jupyter-widgets/html-manager ` +
            `${version("@jupyter-widgets/html-manager")} into _vendor/_static/npm`);
