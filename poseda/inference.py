"""Using a trained lifter: load it from a checkpoint, predict over a set of frames, score it with
its protocol. Nothing here trains; ``poseda lift``, ``evaluate``, ``export``, the benchmark and
the training engine's validation all go through these functions."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from poseda.data.codec import PoseCodec
from poseda.data.device import DeviceSet
from poseda.data.domain import Keypoints2D, Poses
from poseda.errors import PosedaInputError
from poseda.geometry.fitting import fit_to_keypoints
from poseda.metrics import Protocol, Report, body_size, evaluate
from poseda.models import build_lifter, lifter_factory
from poseda.models.checkpoint import (
    check_finite,
    layout_from_record,
    layout_record,
    load_checkpoint,
    load_record,
    restore,
    save_checkpoint,
)
from poseda.skeleton.layouts import JointLayout


def device_kind(want: str, where: str = "--device") -> str:
    """'auto' | 'cpu' | 'cuda' -> 'cpu' or 'cuda'; asking for a GPU that is not there is an input
    error naming ``where``."""
    want = str(want)
    if want not in ("auto", "cpu", "cuda"):
        raise PosedaInputError(where, f"must be auto, cpu or cuda, got {want!r}")
    kind = ("cuda" if torch.cuda.is_available() else "cpu") if want == "auto" else want
    if kind == "cuda" and not torch.cuda.is_available():
        raise PosedaInputError(where, "cuda requested but no GPU is available")
    return kind


def check_recorded_lifter(rec: dict, path) -> None:
    """Refuse, in one line that says which plugin to load, a checkpoint whose lifter is not
    registered in this process (checkpoints never import code themselves)."""
    m = rec["model"]
    try:
        lifter_factory(m["name"])
    except PosedaInputError:
        made = f"{m['name']!r}" + (f" ({m['class']})" if m.get("class") and m["class"] != m["name"] else "")
        module = str(m.get("class") or m["name"]).partition(":")[0] if ":" in str(m.get("class") or m["name"]) else None
        how = (f"registered by the plugin {m['plugin']}: load it with --plugin {m['plugin']}" if m.get("plugin")
               else f"which nothing loaded here defines: load its module with --plugin {module}" if module
               else "which nothing loaded here registers: load the plugin that defines it with --plugin")
        raise PosedaInputError(path, f"was made with the lifter {made}, {how}") from None


def load_lifter(path) -> tuple[nn.Module, dict, JointLayout]:
    """A lifter rebuilt from a checkpoint, in eval mode: (model, record, joint layout). No code is
    unpickled or imported; the record is checked first, then the lifter is built by its recorded
    name and options (a plugin's lifter needs its plugin loaded, and the options their ranges),
    and only then are its tensors read, checked against it by name and shape, and checked finite."""
    rec = load_record(path)
    layout = layout_from_record(rec["layout"])
    check_recorded_lifter(rec, path)
    model = build_lifter(rec["model"]["name"], layout, **rec["model"]["options"])
    tensors, rec = load_checkpoint(path, rec)
    restore(model, tensors, rec, where=path)
    check_finite(model.state_dict(), path)
    model.eval()
    return model, rec, layout


#: what a run's checkpoint holds beyond the lifter: left out when the lifter is copied for use
TRAINING_STATE = ("optimizer", "scheduler", "parts", "weights_file", "weights_sha256")


def copy_lifter(src: str | Path, dest: str | Path, **extra) -> Path:
    """Checkpoint ``src`` written at ``dest`` as a lifter to use: its weights and record, without
    optimiser, scheduler or other parts, plus ``extra`` record entries."""
    model, rec, _ = load_lifter(src)
    return save_checkpoint(dest, model, {k: v for k, v in rec.items() if k not in TRAINING_STATE} | extra)


def save_lifter(path: str | Path, model: nn.Module, name: str, options: dict, source: str = "untrained") -> Path:
    """A lifter (made by ``build_lifter(name, layout, **options)``) as a checkpoint with the
    smallest record :func:`load_lifter` rebuilds it from: for untrained weights in tests and
    benchmarks, or weights trained elsewhere."""
    rec = dict(config={}, layout=layout_record(model.layout), codec=PoseCodec().to_dict(),
               model=dict(name=name, options=dict(options), receptive_field=model.receptive_field), source=source)
    return save_checkpoint(path, model, rec)


@torch.no_grad()
def predict(model: torch.nn.Module, data: DeviceSet, idx: torch.Tensor | None = None, flip_test: bool = False,
            batch_size: int = 4096, codec: PoseCodec = PoseCodec()) -> torch.Tensor:
    """Root-relative 3D for frames ``idx`` (default all): [N, J, 3] on the data's device."""
    was = model.training
    model.eval()
    rf = model.receptive_field
    if idx is None and rf > 1 and hasattr(model, "forward_sequence"):
        out = _predict_sequences(model, data, flip_test, codec)
        model.train(was)
        return out
    if idx is None:
        idx = torch.arange(len(data), device=data.inputs.device)
    out = []
    for b in range(0, len(idx), batch_size):
        x = data.windows(idx[b : b + batch_size], rf)
        y = model(x)
        if flip_test:
            y = (y + codec.flip_3d(model(codec.flip_2d(x, data.layout)), data.layout)) / 2
        out.append(y - y[:, codec.root : codec.root + 1])
    model.train(was)
    return torch.cat(out) if out else torch.zeros(0, data.layout.num_joints, 3)


def _predict_sequences(model, data: DeviceSet, flip_test: bool, codec: PoseCodec, chunk: int = 4096) -> torch.Tensor:
    """Every frame of every view at once per view through ``forward_sequence`` (temporal
    convolutions compute each intermediate frame once), edges padded by repetition as in
    :meth:`DeviceSet.windows`. One call per view and chunk, not per frame."""
    half = model.receptive_field // 2
    starts = torch.unique(data.start).tolist()
    out = torch.empty(len(data), data.layout.num_joints, 3, device=data.inputs.device)
    for s in starts:
        e = int(data.end[s]) + 1
        for c0 in range(s, e, chunk):
            c1 = min(e, c0 + chunk)
            idx = torch.arange(c0 - half, c1 + half, device=data.inputs.device).clamp(s, e - 1)
            x = data.inputs[idx][None]
            y = model.forward_sequence(x)[0]
            if flip_test:
                y = (y + codec.flip_3d(model.forward_sequence(codec.flip_2d(x, data.layout))[0], data.layout)) / 2
            out[c0:c1] = y - y[:, codec.root : codec.root + 1]
    return out


def fit_estimates(pred: torch.Tensor, data: DeviceSet, steps: int, prior: float = 0.1, codec: PoseCodec = PoseCodec(),
                  chunk: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """Root-relative estimates [N, J, 3] of ``data``'s frames fitted onto its 2D keypoints under
    each frame's camera (:func:`poseda.geometry.fitting.fit_to_keypoints`: bone lengths kept,
    ``prior`` holds the bone directions), in chunks of frames so memory stays bounded. Returns
    (root-relative fits [N, J, 3], relative reprojection errors [N])."""
    root = codec.root
    out, err = [], []
    for i in range(0, len(pred), chunk):
        sl = slice(i, i + chunk)
        x, e = fit_to_keypoints(pred[sl], data.inputs[sl], data.intrinsics[sl], data.layout.parents, root, steps, prior=prior)
        out.append(x - x[:, root : root + 1])
        err.append(e)
    if not out:
        return pred, pred.new_zeros(0)
    return torch.cat(out), torch.cat(err)


#: the test-time fit that measures a lifter's disagreement with 2D keypoints (:func:`disagreement_2d`)
AGREEMENT_FIT = {"steps": 40, "prior": 0.1}


def disagreement_2d(model: torch.nn.Module, keypoints: Keypoints2D | Poses, flip_test: bool = True,
                    device: str | torch.device = "cpu", codec: PoseCodec = PoseCodec()) -> float:
    """How far (metres, mean per joint) the test-time fit (:func:`fit_estimates`, 40 steps, prior
    0.1, bone lengths kept) moves ``model``'s estimates of ``keypoints`` to make them project onto
    those keypoints under each frame's camera. It reads the 2D and the intrinsics only, so it
    scores lifters on a target without its 3D: of two lifters adapted to the same target, the one
    whose estimates agree better with the target's 2D is usually the more accurate (measured in
    docs/results.md, "Choosing GPA's rule from the target's 2D"). It cannot see body size: the fit
    keeps the bone lengths and moves the depth."""
    data = DeviceSet.from_split(keypoints, codec, device)
    if len(data) == 0:
        raise PosedaInputError("disagreement_2d", "no frames to score")
    with torch.no_grad():
        pred = predict(model.to(device), data, flip_test=flip_test, codec=codec).float()
    fitted, _ = fit_estimates(pred, data, AGREEMENT_FIT["steps"], AGREEMENT_FIT["prior"], codec)
    return float((fitted - pred).norm(dim=-1).mean())


def checkpoint_disagreement(ckpt: str | Path, domain, flip_test: bool = True, device: str | torch.device = "cpu") -> dict:
    """:func:`disagreement_2d` of the lifter in checkpoint ``ckpt`` on ``domain``'s adaptation
    split (a target's 2D and intrinsics; no 3D is read), as ``{"mm", "seconds", "split", ...}``.
    Kept beside the checkpoint (``disagreement-<domain>.json``, written atomically) and computed
    again only when the weights or the settings differ, so ``poseda adapt`` and the benchmark's
    selecting rows share one score per run."""
    import json
    import time

    from poseda.fileio import atomic_write

    ckpt = Path(ckpt)
    sha = load_record(ckpt).get("weights_sha256")
    kept = ckpt.parent / f"disagreement-{domain.name}.json"
    settings = dict(AGREEMENT_FIT, flip_test=bool(flip_test))
    if kept.exists():
        cached = json.loads(kept.read_text())
        if cached.get("weights_sha256") == sha and cached.get("settings") == settings:
            return cached
    t0 = time.perf_counter()
    model, _, layout = load_lifter(ckpt)
    keypoints = domain.adaptation(layout)
    mm = 1000 * disagreement_2d(model, keypoints, flip_test, device)
    out = {"mm": mm, "seconds": time.perf_counter() - t0, "weights_sha256": sha, "settings": settings,
           "split": keypoints.protocol.get("split"), "frames": len(keypoints)}
    atomic_write(kept, lambda t: Path(t).write_text(json.dumps(out, indent=1)))
    return out


def fit_label(steps: int, prior: float) -> str:
    """How a protocol line names a test-time fit ("" when there is none)."""
    return f"{steps} steps, prior {prior:g}, bone lengths kept" if steps else ""


def evaluate_split(model: torch.nn.Module, poses: Poses, flip_test: bool = True, batch_size: int = 4096,
                   device: str | torch.device = "cpu", codec: PoseCodec = PoseCodec(), fit_steps: int = 0,
                   fit_prior: float = 0.1) -> Report:
    """MPJPE / PA-MPJPE / N-MPJPE / PCK / AUC of ``model`` on ``poses``, per action and joint; with
    ``fit_steps``, of its estimates fitted onto the 2D keypoints (:func:`fit_estimates`)."""
    data = DeviceSet.from_split(poses, codec, device)
    with torch.no_grad():
        pred = predict(model, data, flip_test=flip_test, batch_size=batch_size, codec=codec)
    if fit_steps:
        pred, _ = fit_estimates(pred.float(), data, fit_steps, fit_prior, codec)
    pred = pred.float().cpu()
    gt = data.targets.cpu()
    proto = Protocol(joints=poses.layout.name, num_joints=poses.layout.num_joints,
                     source_2d=poses.protocol.get("2d", "ground truth"), frames=model.receptive_field,
                     flip_test=flip_test, split=poses.protocol.get("split", "?"), domain=poses.protocol.get("domain", "?"),
                     skeleton=poses.protocol.get("skeleton", "real"), fit=fit_label(fit_steps, fit_prior))
    rep = evaluate(pred.numpy(), gt.numpy(), proto, list(poses.layout.joints), np.asarray(poses.action))
    rep.extra["body_size"] = body_size(pred, gt, poses.layout.parents)
    return rep
