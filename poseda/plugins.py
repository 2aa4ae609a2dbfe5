"""Loading user code that registers lifters, adaptation methods, keypoint formats, importers and export formats.

poseda runs code of yours only when you name it: ``poseda --plugin FILE.py|module ...`` (the
option may repeat), the environment variable ``POSEDA_PLUGINS`` (plugins separated by the path
separator, so ``torchrun`` processes load them too), or an installed package's entry point in the
group ``poseda.plugins``. A plugin is an ordinary Python file or module; importing it registers
what it defines in poseda's registries (:mod:`poseda.registry`): lifters
(:func:`poseda.models.register_lifter`), adaptation methods
(:func:`poseda.adapt.methods.register_method`), keypoint formats and readers
(:func:`poseda.keypoints.formats.register_keypoint_format`,
:func:`poseda.keypoints.readers.register_keypoint_reader`), importers
(:func:`poseda.domains.importers.register_importer`) and export formats
(:func:`poseda.domains.export.register_export_format`). A checkpoint only *names* the lifter it was made
with: loading it never imports anything, and a lifter no plugin registered is refused in one line
that says which plugin to load.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from poseda.errors import PosedaInputError

ENV_PLUGINS = "POSEDA_PLUGINS"
ENTRY_POINT_GROUP = "poseda.plugins"

_loaded: dict[str, ModuleType] = {}
_current: list[str] = []


def current_plugin() -> str | None:
    """The plugin being imported right now (what registries record as a name's origin), if any."""
    return _current[-1] if _current else None


@contextmanager
def _loading(spec: str):
    _current.append(spec)
    try:
        yield
    finally:
        _current.pop()


def _import_file(path: Path) -> ModuleType:
    name = path.stem
    if not name.isidentifier():
        raise PosedaInputError("file name", "must be a Python identifier (it becomes the module name)")
    old = sys.modules.get(name)
    if old is not None and Path(getattr(old, "__file__", "") or "").resolve() != path.resolve():
        raise PosedaInputError("file name", f"a module named {name!r} is already imported from elsewhere; rename the file")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before running it, so its classes' __module__ resolves
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_plugin(spec: str) -> ModuleType:
    """Import a plugin: a path to a ``.py`` file, or an importable module name. Loading the same
    plugin again does nothing."""
    spec = str(spec).strip()
    if spec in _loaded:
        return _loaded[spec]
    if not spec:
        raise PosedaInputError("--plugin", "empty plugin name")
    is_file = spec.endswith(".py") or os.sep in spec or bool(os.altsep and os.altsep in spec)
    if is_file and not Path(spec).is_file():
        raise PosedaInputError("--plugin", f"{spec}: no such Python file")
    if is_file and Path(spec).suffix != ".py":
        raise PosedaInputError("--plugin", f"{spec}: a plugin file must be a .py file")
    if not is_file and not all(part.isidentifier() for part in spec.split(".")):
        raise PosedaInputError("--plugin", f"{spec}: not a .py file nor a module name (dotted Python identifiers)")
    with _loading(spec):
        try:
            module = _import_file(Path(spec)) if is_file else importlib.import_module(spec)
        except ModuleNotFoundError as e:
            if not is_file and e.name and spec.split(".")[0] == e.name.split(".")[0]:
                raise PosedaInputError("--plugin", f"{spec}: no such module (give a .py file or an importable module)") from None
            raise PosedaInputError("--plugin", f"{spec}: failed to import: {type(e).__name__}: {e}") from None
        except PosedaInputError as e:  # a registration the registry refused, or a bad file name
            raise PosedaInputError("--plugin", f"{spec}: {e}") from None
        except Exception as e:  # a plugin's own error, in one line
            raise PosedaInputError("--plugin", f"{spec}: failed to import: {type(e).__name__}: {e}") from None
        except SystemExit as e:  # sys.exit() on import would end poseda silently, with the plugin's status
            raise PosedaInputError("--plugin", f"{spec}: called sys.exit({e.code!r}) while being imported; "
                                               "a plugin must only define and register") from None
    _loaded[spec] = module
    return module


def load_plugins(specs=()) -> list[str]:
    """Load the given plugins, those in ``POSEDA_PLUGINS`` and the installed entry points; returns
    what was loaded, in order."""
    names = [*specs, *[s for s in os.environ.get(ENV_PLUGINS, "").split(os.pathsep) if s.strip()]]
    for s in names:
        load_plugin(s)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        key = f"{ep.name} (entry point {ep.value})"
        if key in _loaded:
            continue
        with _loading(key):
            try:
                _loaded[key] = ep.load()
            except (Exception, SystemExit) as e:
                raise PosedaInputError("entry point", f"{ENTRY_POINT_GROUP} {ep.name} = {ep.value}: failed to import: "
                                                      f"{type(e).__name__}: {e}") from None
        names.append(key)
    return names
