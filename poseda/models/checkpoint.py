"""Checkpoints that load without unpickling or importing code.

A checkpoint ``<stem>`` is a JSON record ``<stem>.json`` (config, joint layout, codec, the lifter's
name and options, metrics, code version, optimiser and scheduler scalars) and the safetensors
files it names. Every tensors file is named after its own content
(``<stem>.<first 12 hex digits of its SHA-256>.safetensors``) and the record holds its full
SHA-256, so a file the current record names is never overwritten. A save writes the tensors files,
then replaces the record (the one moment that commits it), then removes the files no record names
any more. A process killed at any moment therefore leaves the previous complete checkpoint, or
the new one, never a torn one; :func:`clean_checkpoint_files` removes what it left over. A
training method's own networks (an augmentor, discriminators) are *parts* of the same record, so
one save commits a whole epoch.

A record is checked against a schema (structure, layout, lifter, file names, hashes) before any
tensor is read; tensors that do not fit the lifter they are loaded into are refused by name and
shape.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from poseda.errors import PosedaInputError
from poseda.fileio import atomic_write, clean_stale_temporaries
from poseda.models.bundled import resolve_checkpoint
from poseda.skeleton.layouts import JointLayout
from poseda.version import __version__

FORMAT = "poseda-checkpoint-1"
_HEX = re.compile(r"[0-9a-f]{64}")
_WEIGHTS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*\.safetensors")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# -- the record's schema --------------------------------------------------------------------------
class _Files(BaseModel):
    model_config = ConfigDict(extra="allow")
    weights_file: str
    weights_sha256: str

    @field_validator("weights_file")
    @classmethod
    def _file(cls, v):
        if not _WEIGHTS_NAME.fullmatch(v):
            raise ValueError("must be a plain .safetensors file name beside the record")
        return v

    @field_validator("weights_sha256")
    @classmethod
    def _hex(cls, v):
        if not _HEX.fullmatch(v):
            raise ValueError("must be 64 hexadecimal digits")
        return v


class LayoutRecord(BaseModel):
    name: str
    joints: list[str] = Field(min_length=1, max_length=256)
    parents: list[int]

    @model_validator(mode="after")
    def _tree(self):
        n = len(self.joints)
        if len(set(self.joints)) != n or len(self.parents) != n:
            raise ValueError("joints must be distinct names, with one parent each")
        if self.parents[0] != -1 or any(not -1 <= p < i for i, p in enumerate(self.parents)) or self.parents.count(-1) != 1:
            raise ValueError("parents must be a tree rooted at the first joint (each parent listed before its child)")
        return self


class ModelRecord(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1)
    options: dict[str, Any] = Field(default_factory=dict)
    receptive_field: int = Field(ge=1, le=100000)

    @field_validator("receptive_field")
    @classmethod
    def _odd(cls, v):
        if v % 2 == 0:
            raise ValueError("must be odd")
        return v


class PartRecord(_Files):
    epoch: int


class CheckpointRecord(_Files):
    format: Literal["poseda-checkpoint-1"]
    layout: LayoutRecord
    model: ModelRecord
    codec: dict[str, Any]
    parts: dict[str, PartRecord] = Field(default_factory=dict)


def check_record(rec, where) -> dict:
    """``rec`` if it is a checkpoint record; else one line naming the first problem."""
    if not isinstance(rec, dict):
        raise PosedaInputError(where, f"is not a checkpoint record (a JSON object, not {type(rec).__name__})")
    if rec.get("format") != FORMAT:
        raise PosedaInputError(where, "not a poseda checkpoint record")
    try:
        CheckpointRecord.model_validate(rec)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise PosedaInputError(where, f"malformed checkpoint record: {key}: {err['msg'].removeprefix('Value error, ')}") from None
    return rec


# -- writing ----------------------------------------------------------------------------------------
def layout_record(layout: JointLayout) -> dict:
    return {"name": layout.name, "joints": list(layout.joints), "parents": list(layout.parents)}


def layout_from_record(rec: dict) -> JointLayout:
    return JointLayout(rec["name"], tuple(rec["joints"]), tuple(rec["parents"]))


def _split_optimizer(state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    tensors, scalars = {}, {}
    for pid, st in state["state"].items():
        for k, v in st.items():
            if isinstance(v, torch.Tensor):
                tensors[f"optim.{pid}.{k}"] = v.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{k}"] = v
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _join_optimizer(tensors: dict[str, torch.Tensor], rec: dict) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for name, t in tensors.items():
        if name.startswith("optim."):
            _, pid, key = name.split(".", 2)
            state.setdefault(int(pid), {})[key] = t
    for name, v in rec["scalars"].items():
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = v
    return {"state": state, "param_groups": rec["param_groups"]}


def _write_tensors(folder: Path, stem: str, module: torch.nn.Module, optimizer=None) -> dict:
    """The module's (and optimiser's) tensors as ``<stem>.<hash>.safetensors``; returns the file
    entries of a record (and the optimiser's scalars)."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    out: dict = {}
    if optimizer is not None:
        t, o = _split_optimizer(optimizer.state_dict())
        tensors.update(t)
        out["optimizer"] = o
    tmp = atomic_write(folder / f"{stem}.tmp.safetensors", lambda p: save_file(tensors, p))
    sha = _sha256(tmp)
    name = f"{stem}.{sha[:12]}.safetensors"
    tmp.replace(folder / name)
    return dict(out, weights_file=name, weights_sha256=sha)


def save_checkpoint(path: str | Path, model: torch.nn.Module, record: dict, optimizer=None, scheduler=None,
                    parts: dict | None = None) -> Path:
    """Write checkpoint ``path`` (a stem): the lifter's tensors (and its optimiser's), each of
    ``parts`` (name -> (module, optimiser, record)) beside them, then the record, which commits
    them; then remove the files the previous record named and this one does not."""
    base = Path(path)
    folder, stem = base.parent, base.name
    folder.mkdir(parents=True, exist_ok=True)
    rec = dict(record, poseda_version=__version__, format=FORMAT)
    if scheduler is not None:
        rec["scheduler"] = scheduler.state_dict()
    if parts:
        rec["parts"] = {name: dict(prec, **_write_tensors(folder, f"{stem}-{name}", module, opt))
                        for name, (module, opt, prec) in parts.items()}
    rec.update(_write_tensors(folder, stem, model, optimizer))
    atomic_write(base.with_suffix(".json"), lambda tmp: Path(tmp).write_text(json.dumps(rec, indent=1, default=float)))
    clean_checkpoint_files(base)
    return base


def clean_checkpoint_files(base: str | Path) -> list[Path]:
    """Remove the tensors files of checkpoint ``base`` that its record does not name (left by a
    save that was interrupted, or replaced by a later one) and temporaries of killed processes."""
    base = Path(base)
    folder, stem = base.parent, base.name
    clean_stale_temporaries(folder)
    try:
        rec = json.loads(base.with_suffix(".json").read_text())
        keep = {rec["weights_file"], *(p["weights_file"] for p in rec.get("parts", {}).values())}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []  # no readable record: nothing is known to be unreferenced
    pattern = re.compile(rf"{re.escape(stem)}(?:-[A-Za-z0-9_]+)?\.(?:[0-9a-f]{{12}}|tmp)\.safetensors")
    removed = []
    for p in folder.iterdir():
        if p.name not in keep and pattern.fullmatch(p.name):
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


# -- reading ----------------------------------------------------------------------------------------
def _stem(path: str | Path) -> Path:
    """A checkpoint's stem from the stem, its record or one of its tensors files (or a bundled
    lifter's name, :mod:`poseda.models.bundled`)."""
    base = resolve_checkpoint(path)
    if base.suffix == ".json":
        return base.with_suffix("")
    if base.suffix == ".safetensors":
        base = base.with_suffix("")
        if re.fullmatch(r"[0-9a-f]{12}", base.suffix[1:] or "x"):
            base = base.with_suffix("")
    return base


def _read_tensors(folder: Path, files: dict, what: Path) -> dict[str, torch.Tensor]:
    weights = folder / files["weights_file"]
    if not weights.is_file():
        raise PosedaInputError(weights, f"the weights of {what} are missing")
    if _sha256(weights) != files["weights_sha256"]:
        raise PosedaInputError(weights, "weights do not match their record (torn or modified checkpoint)")
    try:
        return load_file(str(weights))
    except (SafetensorError, OSError) as e:
        raise PosedaInputError(weights, f"corrupt weights file ({e})") from None


def load_record(path: str | Path) -> dict:
    """The checked record of checkpoint ``path`` (stem, ``.json`` or a tensors file), no tensors read."""
    js = _stem(path).with_suffix(".json")
    from poseda.fileio import check_input

    check_input(js, "file", "checkpoint record")
    try:
        rec = json.loads(js.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise PosedaInputError(js, "corrupt checkpoint record (not JSON)") from None
    except RecursionError:
        raise PosedaInputError(js, "corrupt checkpoint record (nested too deeply)") from None
    return check_record(rec, js)


def load_checkpoint(path: str | Path, rec: dict | None = None) -> tuple[dict[str, torch.Tensor], dict]:
    """-> (the lifter's and optimiser's tensors, record). ``path`` may name the record, a tensors
    file or the stem; ``rec``, its record when the caller has read it already (read once)."""
    base = _stem(path)
    rec = load_record(base) if rec is None else rec
    return _read_tensors(base.parent, rec, base), rec


def load_part(path: str | Path, rec: dict, name: str) -> tuple[dict[str, torch.Tensor], dict]:
    """The tensors and record of the part ``name`` of the checkpoint ``path`` whose record is ``rec``."""
    base = _stem(path)
    part = rec.get("parts", {}).get(name)
    if part is None:
        raise PosedaInputError(base.with_suffix(".json"), f"holds no {name!r} (saved by a run of another method, or by an "
                                                          "older poseda): start the run again")
    return _read_tensors(base.parent, part, base), part


def model_state(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The lifter's state dict inside a checkpoint's tensors (stored under ``model.``)."""
    return {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}


def _misfit(state: dict, own: dict) -> str | None:
    """How ``state`` does not fit a module whose state dict is ``own``, or None."""
    missing, extra = sorted(set(own) - set(state)), sorted(set(state) - set(own))
    wrong = [k for k in own if k in state and own[k].shape != state[k].shape]
    if not (missing or extra or wrong):
        return None
    k = (wrong or missing or extra)[0]
    return (f"{k} has shape {tuple(state[k].shape)}, the lifter's {tuple(own[k].shape)}" if wrong else
            f"the lifter's {k} is not in it" if missing else f"its {k} is not in the lifter")


def load_init(model: torch.nn.Module, path: str | Path, layout: JointLayout) -> str | None:
    """Start ``model`` from the weights of the checkpoint at ``path`` (fine-tuning, adaptation);
    returns their SHA-256. The joints must match. Weights of another shape are handed to the
    model's ``inflate_state`` when it has one (a temporal VideoPose3D takes a single-frame one's
    weights into the centre taps of its kernels, and starts the blocks it lacks as near-identities);
    anything else that does not fit is refused."""
    tensors, rec = load_checkpoint(path)
    if tuple(rec["layout"]["joints"]) != tuple(layout.joints):
        raise PosedaInputError(path, f"was trained on joints {rec['layout']['name']}, this run uses {layout.name}")
    state = model_state(tensors)
    own = model.state_dict()
    if _misfit(state, own) and hasattr(model, "inflate_state"):
        state = model.inflate_state(state)
    problem = _misfit(state, own)
    if problem:
        raise PosedaInputError(path, f"weights do not fit this lifter ({rec['model'].get('name')} "
                                     f"{rec['model'].get('options', {})}): {problem}")
    check_finite(state, path)
    model.load_state_dict(state)
    return rec.get("weights_sha256")


def check_finite(state: dict[str, torch.Tensor], where) -> None:
    """Refuse weights with a non-finite value (a training that diverged)."""
    bad = next((k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()), None)
    if bad is not None:
        raise PosedaInputError(where, f"holds non-finite weights ({bad}): the training that made it diverged")


def restore(model: torch.nn.Module, tensors: dict, rec: dict, optimizer=None, scheduler=None, where="checkpoint") -> None:
    """Load a checkpoint's tensors (and optimiser and schedule) into ``model``; tensors that do not
    fit, or an optimiser record of another shape, are one line naming ``where``."""
    state = model_state(tensors)
    problem = _misfit(state, model.state_dict())
    if problem:
        raise PosedaInputError(where, f"weights do not fit the lifter: {problem}")
    model.load_state_dict(state)
    try:
        if optimizer is not None and "optimizer" in rec:
            optimizer.load_state_dict(_join_optimizer(tensors, rec["optimizer"]))
        if scheduler is not None and "scheduler" in rec:
            scheduler.load_state_dict(rec["scheduler"])
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError, IndexError) as e:
        raise PosedaInputError(where, f"its optimiser or schedule does not fit this run ({type(e).__name__}: {e})") from None


def weights_path(path: str | Path) -> Path:
    """The lifter's tensors file of checkpoint ``path`` (for tools that read it directly)."""
    base = _stem(path)
    return base.parent / load_record(base)["weights_file"]
