"""The package's shape: a light top level, mechanism files that stand alone and fit the page."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import attn_lib

PACKAGE = Path(attn_lib.__file__).parent
MECHANISM_FILES = sorted({Path(sys.modules[m.module.__module__].__file__) for m in attn_lib.mechanisms()})
# What the book prints with show_source: the mechanism files, the base class, the registry and
# the networks. Its page is about 88 characters wide.
PRINTED = [*MECHANISM_FILES, PACKAGE / "_base.py", PACKAGE / "registry.py",
           *sorted((PACKAGE / "models").glob("*.py"))]


def test_import_attn_lib_loads_torch_and_nothing_else():
    code = (
        "import sys; import torch; before = set(sys.modules); import attn_lib; "
        "added = {m.split('.')[0] for m in set(sys.modules) - before}; "
        "print(sorted(added)); print(hasattr(attn_lib, 'models') and hasattr(attn_lib.models, 'resnet50'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    added, has_models = out.splitlines()
    assert added == "['attn_lib']", f"import attn_lib also imported {added}"
    assert has_models == "True"


@pytest.mark.parametrize("path", MECHANISM_FILES, ids=lambda p: p.name)
def test_a_mechanism_file_needs_only_torch_the_base_class_and_other_mechanisms(path):
    """So that a practitioner can copy it (with _base.py, and for scSE se.py and sse.py)."""
    allowed_relative = {"_base"} | {p.stem for p in MECHANISM_FILES}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            assert node.level == 1 and node.module in allowed_relative, (
                f"{path.name} imports .{node.module}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            for name in names:
                assert name.split(".")[0] in {"torch", "math", "__future__", "typing"}, (
                    f"{path.name} imports {name}")


@pytest.mark.parametrize("path", PRINTED, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_printed_files_fit_the_page(path):
    long = [(i, len(line)) for i, line in enumerate(path.read_text().splitlines(), 1) if len(line) > 88]
    assert not long, f"{path.name}: lines longer than 88 characters (line, length): {long}"


def test_the_tree_shows_the_library_apart_from_the_book():
    top = {p.name for p in PACKAGE.iterdir() if not p.name.startswith("__pycache__")}
    mechanisms = {p.name for p in MECHANISM_FILES}
    assert top == {"__init__.py", "_base.py", "registry.py", "models", "lab", "viz", "bench", "book"} | mechanisms
