import json

import numpy as np
import pytest
import torch

from poseda.lift.export import INPUT_NAME, OUTPUT_NAME, check_onnx, export_onnx
from poseda.models import build_lifter
from poseda.skeleton.layouts import H36M16

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

BACKBONES = [("simple_baseline", {"width": 64}), ("videopose3d", {"filter_widths": [3, 3], "channels": 32}),
             ("semgcn", {"hidden": 16}), ("stgcn", {"channels": 16, "temporal_widths": [3]}),
             ("transformer", {"frames": 3, "dim": 16, "depth": 1, "heads": 2})]


@pytest.mark.parametrize("name,options", BACKBONES, ids=[b[0] for b in BACKBONES])
def test_onnx_matches_pytorch_for_every_backbone(tmp_path, name, options):
    torch.manual_seed(0)
    model = build_lifter(name, H36M16, **options).eval()
    path, diff = export_onnx(model, tmp_path / f"{name}.onnx", check=True)
    assert diff is not None and diff < 1e-4
    assert check_onnx(model, path) < 1e-4
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch in (1, 7):  # the batch dimension is dynamic
        x = torch.randn(batch, model.receptive_field, 16, 2) * 0.3
        got = sess.run([OUTPUT_NAME], {INPUT_NAME: x.numpy()})[0]
        with torch.no_grad():
            np.testing.assert_allclose(got, model(x).numpy(), atol=1e-4)
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(meta["joints"]) == list(H36M16.joints) and meta["receptive_field"] == str(model.receptive_field)
    assert "x_n = 2 x / W - 1" in meta["input"] and "metres" in meta["output"]
