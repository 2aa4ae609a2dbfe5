"""Every data file under poseda/ (rigs, published facts, the bundled motion, configs, bundled
models) is shipped: a ``package-data`` glob in pyproject.toml matches it, so a moved folder cannot
silently drop out of an installed package."""
import tomllib
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parents[1]


def _matches(path: PurePosixPath, package: str, glob: str) -> bool:
    """As setuptools reads a glob: relative to the package's folder, ``*`` within one folder."""
    folder = PurePosixPath(*package.split("."))
    if not path.is_relative_to(folder):
        return False
    rel = path.relative_to(folder)
    return len(rel.parts) == len(PurePosixPath(glob).parts) and rel.match(glob)


def test_every_data_file_is_package_data():
    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    files = [p.relative_to(REPO).as_posix() for p in (REPO / "poseda").rglob("*")
             if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert files
    left_out = []
    for f in files:
        path = PurePosixPath(f)
        shipped = any(_matches(path, package, g) for package, pats in globs.items() for g in pats)
        if not shipped:
            left_out.append(f)
    assert not left_out, f"not in [tool.setuptools.package-data]: {left_out}"
    for package in globs:  # and every glob names a package that exists
        assert (REPO / Path(*package.split(".")) / "__init__.py").is_file(), package
