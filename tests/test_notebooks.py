"""The chapters as files: outputs nbval can compare on any machine, and a chapter that runs
where graphviz's `dot` is missing."""

import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from attn_lib.viz.diagram import MISSING_DOT

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
# The cells whose output nbval does not compare (tag `nbval-ignore-output`): the one place where
# they are listed and explained. Cells whose every output is a widget view are left out as a
# kind: nbval skips the view, and its plain-text fallback is a truncated widget repr, not a
# result. Any other cell must be listed here with its reason.
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
IGNORED_OUTPUTS = {
    ("practitioners.ipynb", 'print(f"step {step:2}: loss {loss.item():.2f}")'):
        "a 30-step training log: loss digits and the held-out count change with the CPU's kernels",
}
# A float32 residual printed raw (2.4e-07) differs from one CPU to the next; the chapters print
# attn_lib.book.agreement's verdict instead, which shows a residual only when it is the point.
RAW_RESIDUAL = re.compile(r"(?<!differ by )\b\d\.\d+e[-+]\d+")


def _compared_text(cell) -> str:
    """The text nbval compares in a code cell's stored outputs (images and widgets it skips)."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append("".join(output.get("text", "")))
        data = output.get("data", {})
        for mime in ("text/plain", "text/markdown", "text/html"):
            parts.append("".join(data.get(mime, "")))
    return "\n".join(parts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_compared_output_prints_a_raw_residual(path):
    cells = json.loads(path.read_text())["cells"]
    found = [line.strip() for cell in cells if cell["cell_type"] == "code"
             and "nbval-ignore-output" not in cell["metadata"].get("tags", [])
             for line in _compared_text(cell).splitlines() if RAW_RESIDUAL.search(line)]
    assert not found, f"{path.name}: raw residuals in compared output: {found}"


def test_outputs_left_out_of_comparison_are_the_listed_ones():
    tagged = set()
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            if "nbval-ignore-output" in cell["metadata"].get("tags", []):
                outputs = cell.get("outputs", [])
                if outputs and all(WIDGET_VIEW in o.get("data", {}) for o in outputs):
                    continue
                source = "".join(cell["source"])
                keys = [key for key in IGNORED_OUTPUTS if key[0] == path.name and key[1] in source]
                assert keys, f"{path.name}: a cell tagged nbval-ignore-output is not in IGNORED_OUTPUTS:\n{source}"
                tagged.update(keys)
    assert tagged == set(IGNORED_OUTPUTS), f"listed but not tagged: {set(IGNORED_OUTPUTS) - tagged}"


def _path_without(program: str, folder: Path) -> str:
    """PATH with ``program`` hidden: each folder that holds it is replaced by ``folder``, which
    links to everything else in it."""
    entries = []
    for entry in os.environ["PATH"].split(os.pathsep):
        if entry and (Path(entry) / program).exists():
            mirror = folder / str(len(entries))
            mirror.mkdir()
            for item in Path(entry).iterdir():
                if item.name != program:
                    (mirror / item.name).symlink_to(item)
            entries.append(str(mirror))
        else:
            entries.append(entry)
    return os.pathsep.join(entries)


def test_a_chapter_runs_to_the_end_without_graphviz(tmp_path, monkeypatch):
    """pip cannot install `dot`: a reader without it sees one line where the diagram would be,
    and every other cell of the chapter runs."""
    monkeypatch.setenv("PATH", _path_without("dot", tmp_path))
    assert shutil.which("dot") is None
    chapter = ROOT / "book" / "se.ipynb"
    nb = nbformat.read(chapter, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(chapter.parent)}}).execute()  # raises on an error
    diagram_cells = [cell for cell in nb.cells if cell.cell_type == "code" and "diagram(" in cell.source
                     and "import" not in cell.source]
    assert diagram_cells, "the SE chapter draws a diagram"
    for cell in diagram_cells:
        assert [o["data"]["text/plain"] for o in cell.outputs if "data" in o] == [MISSING_DOT]


def test_the_site_test_collects_the_same_tests_with_or_without_a_built_site(tmp_path):
    """The testing appendix counts the tests per file: the count must not depend on whether
    (or what) the site was built when it ran."""
    import subprocess
    import sys

    def collected(site_dir):
        env = {**os.environ, "SITE_DIR": str(site_dir)}
        run = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                              str(ROOT / "tests" / "site" / "test_site.py")],
                             capture_output=True, text=True, env=env, cwd=ROOT)
        assert run.returncode == 0, run.stdout[-2000:]
        return run.stdout.strip().splitlines()[-1].split(" in ")[0]  # "204 tests collected"

    assert "tests collected" in collected(tmp_path)
    assert collected(tmp_path) == collected(ROOT / "_build" / "html")
