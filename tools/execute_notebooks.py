"""Re-execute the book's notebooks in place, storing outputs and widget state (`make notebooks`).

Before running, each notebook's first cell is rewritten from `_config.yml`: on Colab it installs
`attn_lib` from the repository named there and enables Colab's widget manager; elsewhere it does
nothing. The repository's address is thus written once, in `_config.yml`.

    python tools/execute_notebooks.py [book/se.ipynb ...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SETUP_TAG = "colab-setup"
# The website needs no setup cell (nothing runs there): myst-nb drops cells tagged remove-cell.
SETUP_TAGS = [SETUP_TAG, "remove-cell"]


def setup_cell_source(config_path: Path = ROOT / "_config.yml") -> str:
    repo = yaml.safe_load(config_path.read_text())["repository"]
    url, branch = repo["url"].rstrip("/"), repo.get("branch", "main")
    return (
        "# Makes this notebook stand alone: on Colab, install attn_lib from the book's repository\n"
        "# and turn on Colab's widget manager; anywhere else, do nothing.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install --quiet "attn_lib @ git+{url}@{branch}"\n'
        "    from google.colab import output\n"
        "\n"
        "    output.enable_custom_widget_manager()"
    )


def ensure_setup_cell(nb: nbformat.NotebookNode) -> None:
    source = setup_cell_source()
    first = nb.cells[0] if nb.cells else None
    if first is not None and SETUP_TAG in first.get("metadata", {}).get("tags", []):
        first.source = source
        first.metadata["tags"] = SETUP_TAGS
    else:
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": SETUP_TAGS})
        nb.cells.insert(0, cell)


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    ensure_setup_cell(nb)
    started = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
                   store_widget_state=True).execute()
    seconds = time.perf_counter() - started
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv] or sorted((ROOT / "book").glob("*.ipynb"))
    total = 0.0
    for path in paths:
        seconds = execute(path)
        total += seconds
        size = path.stat().st_size / 1e6
        print(f"{path.name}: {seconds:.1f} s, {size:.2f} MB", flush=True)
    print(f"all notebooks: {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
