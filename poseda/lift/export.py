"""Export a trained lifter to ONNX.

The graph takes ``keypoints2d`` [batch, T, J, 2] in normalised screen units (x / W * 2 - 1,
y / W * 2 - H / W, as :class:`poseda.data.codec.PoseCodec` encodes pixels) and returns ``joints3d``
[batch, J, 3], root-relative metres in the camera frame; the batch dimension is dynamic. The
joint names, receptive field and the normalisation are written into the model's metadata so a
runtime user needs nothing else. The export is checked against PyTorch with onnxruntime when it is
installed.
"""
from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import numpy as np
import torch

from poseda.errors import PosedaInputError
from poseda.fileio import atomic_write
from poseda.version import __version__

INPUT_NAME, OUTPUT_NAME = "keypoints2d", "joints3d"
MAX_DIFFERENCE_M = 1e-4  # 0.1 mm: an export that differs more from PyTorch is broken
NORMALISATION = "2D input: x_n = 2 x / W - 1, y_n = 2 y / W - H / W (pixels x, y; image width W, height H)"


def export_onnx(model: torch.nn.Module, out: str | Path, record: dict | None = None, opset: int = 18,
                check: bool = False) -> tuple[Path, float | None]:
    """Write ``model`` (a lifter) to ``out`` as ONNX with a dynamic batch dimension; with ``check``
    compare it with PyTorch through onnxruntime first (:func:`check_onnx`), and write nothing
    unless they agree. Returns the path and the largest difference (metres), or None."""
    import onnx

    out = Path(out)
    if out.suffix.lower() != ".onnx":
        raise PosedaInputError(out, "the ONNX file must end in .onnx")
    model = model.eval().cpu()
    rf, layout = model.receptive_field, model.layout
    dummy = torch.zeros(2, rf, layout.num_joints, 2)
    batch = torch.export.Dim("batch", min=1)

    def write(tmp):
        # the exporter logs every torchvision operator it skips and a deprecation inside torch: not the user's business
        log = logging.getLogger("torch.onnx")
        level = log.level
        log.setLevel(logging.ERROR)
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                # recurrent layers' flat weights, which the exporter copes with
                warnings.filterwarnings("ignore", message=".*were assigned during export", category=UserWarning)
                prog = torch.onnx.export(model, (dummy,), input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                                         dynamic_shapes=({0: batch},), opset_version=opset, dynamo=True, verbose=False)
        finally:
            log.setLevel(level)
        proto = prog.model_proto
        meta = {"joints": json.dumps(list(layout.joints)), "joint_set": layout.name, "receptive_field": str(rf),
                "input": f"{INPUT_NAME} [batch, {rf}, {layout.num_joints}, 2]; " + NORMALISATION,
                "output": f"{OUTPUT_NAME} [batch, {layout.num_joints}, 3]: metres, camera frame (x right, y down, z forward), "
                          "relative to the first joint (Pelvis)",
                "poseda_version": __version__}
        if record is not None:
            meta["model"] = record["model"]["name"]
            meta["trained_on"] = str(record.get("source"))
        for k, v in meta.items():
            p = proto.metadata_props.add()
            p.key, p.value = k, v
        onnx.save(proto, tmp)
        if check:
            diff[0] = check_onnx(model, tmp)
            if not np.isfinite(diff[0]) or diff[0] > MAX_DIFFERENCE_M:
                raise PosedaInputError(out, f"the exported graph differs from PyTorch by {diff[0] * 1000:.3g} mm on random "
                                            f"inputs (allowed {MAX_DIFFERENCE_M * 1000:g} mm): not written")

    diff: list = [None]
    return atomic_write(out, write), diff[0]


def check_onnx(model: torch.nn.Module, path: str | Path, batch: int = 5, seed: int = 0) -> float:
    """Largest absolute difference (metres) between onnxruntime and PyTorch on random inputs."""
    import onnxruntime as ort

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, model.receptive_field, model.layout.num_joints, 2, generator=g) * 0.3
    with torch.no_grad():
        ref = model.eval()(x).numpy()
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run([OUTPUT_NAME], {INPUT_NAME: x.numpy()})[0]
    return float(np.abs(got - ref).max())
