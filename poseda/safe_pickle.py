"""Loading the object arrays of VideoPose3D-style npz files and 3DPW pickles without running
arbitrary code: a restricted unpickler that only builds NumPy arrays and plain containers."""
from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import numpy as np

from poseda.errors import PosedaInputError

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"), ("builtins", "dict"), ("builtins", "list"), ("builtins", "tuple"),
    ("builtins", "set"), ("builtins", "frozenset"), ("collections", "OrderedDict"),
    ("_codecs", "encode"), ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
}


class SafeUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def safe_loads(data: bytes, where: str, encoding: str = "latin1"):
    try:
        return SafeUnpickler(io.BytesIO(data), encoding=encoding).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError, IndexError) as e:
        raise PosedaInputError(where, f"not a readable pickle ({e.__class__.__name__}: {e})") from None
    except (MemoryError, OverflowError) as e:  # a length field claiming more than any memory (a corrupt or hostile file)
        raise PosedaInputError(where, f"not a readable pickle (it declares an object too large to build: "
                                      f"{e.__class__.__name__})") from None


def npz_keys(path: Path) -> list[str]:
    """Names of the arrays in an npz file."""
    path = Path(path)
    if not path.is_file():
        raise PosedaInputError(path, "file not found")
    try:
        with zipfile.ZipFile(path) as z:
            return [n[:-4] for n in z.namelist() if n.endswith(".npy")]
    except (zipfile.BadZipFile, OSError) as e:
        raise PosedaInputError(path, f"not an npz file (corrupt or truncated zip: {e})") from None


def load_object_npz(path: Path, key: str):
    """``np.load(path)[key]`` (``.item()`` for a 0-d object array) through the restricted
    unpickler; every failure is a PosedaInputError naming the file and the key."""
    try:
        return _load_object_npz(Path(path), key)
    except PosedaInputError:
        raise
    except Exception as e:  # corrupt members, bad npy payloads, OS errors
        raise PosedaInputError(path, f"{key}: unreadable ({e.__class__.__name__}: {e})") from None


def _load_object_npz(path: Path, key: str):
    if not path.is_file():
        raise PosedaInputError(path, "file not found")
    try:
        with zipfile.ZipFile(path) as z:
            names = [n[:-4] for n in z.namelist() if n.endswith(".npy")]
            if key not in names:
                raise PosedaInputError(path, f"no array {key!r} (has {', '.join(names) or 'none'})")
            raw = z.read(key + ".npy")
    except zipfile.BadZipFile:
        raise PosedaInputError(path, "not an npz file (corrupt or truncated zip)") from None
    buf = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(buf)
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = reader(buf, max_header_size=1 << 20)
    except (ValueError, TypeError) as e:
        raise PosedaInputError(path, f"{key}: corrupt array header ({e})") from None
    if dtype != object:
        arr = np.load(io.BytesIO(raw), allow_pickle=False)
        return arr
    obj = safe_loads(buf.read(), f"{path}:{key}")
    if isinstance(obj, np.ndarray) and obj.shape == ():
        obj = obj.item()
    elif isinstance(obj, np.ndarray) and shape == ():
        obj = obj.reshape(()).item()
    return obj
