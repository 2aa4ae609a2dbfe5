"""The package's layers only point down (version < errors < fileio < ... < geometry < skeleton <
keypoints / datasets / models < data < inference < train < adapt / lift < benchmark < cli), and no
module imports the package root, as the import contracts in pyproject.toml say; and the contracts
do catch an import that points up."""
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONTRACTS = len(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"])
LINT = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True))"


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", LINT], cwd=root, capture_output=True, text=True,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


def test_the_layers_only_point_down():
    r = _lint(REPO)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert f"{CONTRACTS} kept, 0 broken" in r.stdout


def _lint_with(tmp_path: Path, module: str, line: str) -> subprocess.CompletedProcess:
    """The contract run on a copy of the package with ``line`` added to ``module`` (a path under poseda/)."""
    shutil.copytree(REPO / "poseda", tmp_path / "poseda", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    target = tmp_path / "poseda" / module
    target.write_text(target.read_text() + line)
    return _lint(tmp_path)


def test_an_import_that_points_up_breaks_the_contract(tmp_path):
    r = _lint_with(tmp_path, "geometry/camera.py", "\n\ndef _upward():\n    from poseda.adapt.gpa import gpa_place  # noqa\n")
    assert r.returncode == 1 and "poseda's layers only point down BROKEN" in r.stdout, r.stdout[-3000:] + r.stderr[-2000:]
    assert "poseda.geometry.camera -> poseda.adapt.gpa" in r.stdout


def test_an_import_circle_inside_a_package_breaks_the_contract(tmp_path):
    r = _lint_with(tmp_path, "train/method.py", "\n\ndef _circle():\n    from poseda.train.engine import Trainer  # noqa\n")
    assert r.returncode == 1 and "poseda.train's modules only point down BROKEN" in r.stdout, r.stdout[-3000:] + r.stderr[-2000:]
    assert "no import circles between sibling modules BROKEN" in r.stdout


def test_importing_the_package_root_breaks_the_contract(tmp_path):
    """The version comes from poseda.version; a module that imports the root (which lazily offers
    poseda.Lifter from poseda.lift) would sit below and above everything at once."""
    r = _lint_with(tmp_path, "geometry/rotations.py", "\nfrom poseda import __version__  # noqa\n")
    assert r.returncode == 1 and "poseda.geometry.rotations -> poseda (l." in r.stdout, r.stdout[-3000:] + r.stderr[-2000:]
