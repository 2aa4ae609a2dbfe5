"""The package's layers only point down (geometry < skeleton < keypoints / datasets / models < data <
inference < train < adapt / lift < benchmark < cli), as the import contract in pyproject.toml
says; and the contract does catch an import that points up."""
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINT = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True))"


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", LINT], cwd=root, capture_output=True, text=True,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


def test_the_layers_only_point_down():
    r = _lint(REPO)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "1 kept, 0 broken" in r.stdout


def test_an_import_that_points_up_breaks_the_contract(tmp_path):
    shutil.copytree(REPO / "poseda", tmp_path / "poseda", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    camera = tmp_path / "poseda" / "geometry" / "camera.py"
    camera.write_text(camera.read_text() + "\n\ndef _upward():\n    from poseda.adapt.gpa import gpa_place  # noqa\n")
    r = _lint(tmp_path)
    assert r.returncode == 1 and "0 kept, 1 broken" in r.stdout, r.stdout[-3000:] + r.stderr[-2000:]
    assert "poseda.geometry.camera -> poseda.adapt.gpa" in r.stdout
