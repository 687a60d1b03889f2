"""The examples/ scripts and the README's Python example run (at small size) and say what
they should; the API reference builds and documents every public name."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import twin

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def _run(args: list[str], cwd: Path) -> str:
    done = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_predict_design_example(tmp_path: Path) -> None:
    out = _run([str(EXAMPLES / "predict_design.py"), "--np-ratio", "0", "--max-cycles", "40",
                "--plot", "life.png"], tmp_path)
    # anode-free: no Li reserve, so the Li inventory runs out within a few dozen cycles
    assert re.search(r"^cycle life \d+ \(lithium_depleted\)", out, re.M), out
    assert (tmp_path / "life.png").read_bytes()[:4] == b"\x89PNG"


def test_sweep_example(tmp_path: Path) -> None:
    out = _run([str(EXAMPLES / "sweep_designs.py"), "--np-ratios", "0,2", "--max-cycles", "4",
                "--workers", "1", "--out", "s.csv"], tmp_path)
    lines = out.strip().splitlines()
    assert lines[0].split() == ["np_ratio", "areal_capacity_mAh_cm2", "cycle_life", "end_of_life_reason",
                                "swelling_at_eol_pct"]
    assert [line.split()[0] for line in lines[1:]] == ["0.0", "2.0"]
    assert (tmp_path / "s.csv").exists()


def test_compare_example(tmp_path: Path) -> None:
    out = _run([str(EXAMPLES / "compare_designs.py"), "--max-cycles", "4", "--workers", "1"], tmp_path)
    labels = [line.split()[0] for line in out.strip().splitlines()[1:]]
    assert labels == ["anode-free", "N:P", "N:P"]


def test_li_cu_example(tmp_path: Path) -> None:
    out = _run([str(EXAMPLES / "li_cu_test.py"), "--cycles", "3"], tmp_path)
    ce = {line.rsplit("CE", 1)[0].strip(): float(line.rsplit("CE", 1)[1].strip(" %"))
          for line in out.strip().splitlines()}
    assert "bare Cu" in ce and len(ce) > 2
    assert all(50 < value < 100 for value in ce.values())


def test_simulate_and_calibrate_example(tmp_path: Path) -> None:
    out = _run([str(EXAMPLES / "simulate_and_calibrate.py"), "--cycles", "12", "--trials", "3"], tmp_path)
    fitted = float(re.search(r"fitted ([0-9.e-]+) \(3 trials", out).group(1))
    assert 1e-3 <= fitted <= 0.05  # inside the recipe's bounds
    assert re.search(r"end of life \(80 %\): P10 \d+, P50 \d+, P90 \d+", out), out


def test_readme_python_example_runs(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Python API"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    (tmp_path / "readme_example.py").write_text(code)
    out = _run(["readme_example.py"], tmp_path)
    life, reason = out.splitlines()[0].split()
    assert int(life) > 1 and reason == "lithium_depleted"
    assert (tmp_path / "life.png").exists()
    assert "anode-free" in out


def test_api_reference_documents_every_public_name(tmp_path: Path) -> None:
    makefile = (REPO / "Makefile").read_text()
    modules = re.search(r"DOC_MODULES := (.*?)\ndocs:", makefile, re.S).group(1).replace("\\\n", " ").split()
    subprocess.run([sys.executable, "-m", "pdoc", "--docformat", "numpy", "--output-directory", str(tmp_path),
                    *modules], check=True, capture_output=True, timeout=300)
    page = (tmp_path / "twin.html").read_text()
    missing = [name for name in twin.__all__ if f'id="{name}"' not in page]
    assert missing == []
    # numpydoc sections are rendered, with units
    api_page = (tmp_path / "twin" / "api.html").read_text()
    for text in ("Parameters", "Returns", "max_cycles", "[mA/cm2]", "[V vs Li]"):
        assert text in api_page, text
    for module in modules:
        assert (tmp_path / (module.replace(".", "/") + ".html")).exists(), module
