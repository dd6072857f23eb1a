"""What the book opens ships inside the package: a wheel carries every weight and result file."""

import subprocess
import sys
import zipfile
from pathlib import Path

import attn_lib

PACKAGE = Path(attn_lib.__file__).parent


def test_wheel_carries_weights_records_and_results(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path), str(PACKAGE.parent)], check=True, timeout=300)
    (wheel,) = tmp_path.glob("attn_lib-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    # Every weight file and record, and the benchmark's results; runs' weights stay local.
    data = [*(PACKAGE / "lab/weights").glob("*.*"), *(PACKAGE / "lab/runs").rglob("*.json"),
            *(PACKAGE / "bench").glob("*.json")]
    needed = [p for p in data if p.suffix in (".json", ".safetensors")]
    assert needed, "no package data found"
    missing = [str(p.relative_to(PACKAGE.parent)) for p in needed
               if str(p.relative_to(PACKAGE.parent)) not in shipped]
    assert not missing, f"not in the wheel: {missing}"
    assert not [n for n in shipped if n.endswith((".pt", ".pth", ".pkl", ".ckpt"))]
