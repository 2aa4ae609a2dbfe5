"""Checkpoints that load without unpickling code: tensors in a safetensors file, everything else
(config, joint layout, codec, metrics, code version, optimiser and scheduler scalars) in a JSON
record beside it. Both are written to temporary files and renamed into place, the JSON last; the
JSON names the weights file's SHA-256, so a torn pair is detected on load."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from poseda import __version__
from poseda.errors import PosedaInputError
from poseda.fileio import atomic_write as _atomic_write
from poseda.skeleton.layouts import JointLayout


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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


def save_checkpoint(path: str | Path, model: torch.nn.Module, record: dict, optimizer=None, scheduler=None) -> Path:
    """Write ``path``.safetensors and ``path``.json (``path`` without suffix)."""
    base = Path(path)
    weights = base.with_suffix(".safetensors")
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    rec = dict(record, poseda_version=__version__, format="poseda-checkpoint-1")
    if optimizer is not None:
        t, o = _split_optimizer(optimizer.state_dict())
        tensors.update(t)
        rec["optimizer"] = o
    if scheduler is not None:
        rec["scheduler"] = scheduler.state_dict()
    _atomic_write(weights, lambda tmp: save_file(tensors, tmp))
    rec["weights_file"] = weights.name
    rec["weights_sha256"] = _sha256(weights)
    _atomic_write(base.with_suffix(".json"), lambda tmp: Path(tmp).write_text(json.dumps(rec, indent=1, default=float)))
    return base


def load_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """-> (all tensors, record). ``path`` may name the .json, the .safetensors or the stem."""
    base = Path(path)
    if base.suffix in (".json", ".safetensors"):
        base = base.with_suffix("")
    js = base.with_suffix(".json")
    try:
        rec = json.loads(js.read_text())
    except FileNotFoundError:
        raise PosedaInputError(js, "checkpoint record not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise PosedaInputError(js, "corrupt checkpoint record (not JSON)") from None
    if rec.get("format") != "poseda-checkpoint-1":
        raise PosedaInputError(js, "not a poseda checkpoint record")
    weights = js.parent / rec.get("weights_file", base.name + ".safetensors")
    if not weights.is_file():
        raise PosedaInputError(weights, "checkpoint weights not found")
    if _sha256(weights) != rec.get("weights_sha256"):
        raise PosedaInputError(weights, "weights do not match their record (torn or modified checkpoint)")
    try:
        tensors = load_file(str(weights))
    except (SafetensorError, OSError) as e:
        raise PosedaInputError(weights, f"corrupt weights file ({e})") from None
    return tensors, rec


def model_state(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The lifter's state dict inside a checkpoint's tensors (stored under ``model.``)."""
    return {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}


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
    fits = state.keys() == own.keys() and all(own[k].shape == v.shape for k, v in state.items())
    if not fits and hasattr(model, "inflate_state"):
        state = model.inflate_state(state)
    missing, extra = sorted(set(own) - set(state)), sorted(set(state) - set(own))
    wrong = [k for k in own if k in state and own[k].shape != state[k].shape]
    if missing or extra or wrong:
        k = (wrong or missing or extra)[0]
        what = (f"{k} has shape {tuple(state[k].shape)}, the lifter's {tuple(own[k].shape)}" if wrong else
                f"the lifter's {k} is not in it" if missing else f"its {k} is not in the lifter")
        raise PosedaInputError(path, f"weights do not fit this lifter ({rec['model'].get('name')} "
                                     f"{rec['model'].get('options', {})}): {what}")
    model.load_state_dict(state)
    return rec.get("weights_sha256")


def restore(model: torch.nn.Module, tensors: dict, rec: dict, optimizer=None, scheduler=None) -> None:
    model.load_state_dict(model_state(tensors))
    if optimizer is not None and "optimizer" in rec:
        optimizer.load_state_dict(_join_optimizer(tensors, rec["optimizer"]))
    if scheduler is not None and "scheduler" in rec:
        scheduler.load_state_dict(rec["scheduler"])
