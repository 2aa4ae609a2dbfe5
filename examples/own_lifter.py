"""Your own lifter in poseda: a plugin file that registers it, after which every command can use it.

A lifter is any ``nn.Module`` with ``receptive_field`` (odd number of input frames), ``layout``
(a JointLayout) and ``forward(x: [B, T, J, 2]) -> [B, J, 3]`` (root-relative metres). Nothing
else: normalisation, windows, flip augmentation, adaptation, checkpoints and metrics come from
poseda. Registered under a name, it is built from a config (``model.name`` and
``model.options``), and its checkpoints record that name and those options, so they load again
wherever the plugin is loaded (a checkpoint never imports code by itself):

    poseda --plugin examples/own_lifter.py train -c examples/own_lifter.yaml run.dir=runs/gru
    poseda --plugin examples/own_lifter.py adapt runs/gru/best -t cmu-3dhp -m gpa_lpa run.dir=runs/gru-cmu
    poseda --plugin examples/own_lifter.py evaluate -c runs/gru-cmu/best -d cmu-3dhp
    poseda --plugin examples/own_lifter.py lift keypoints.json -c runs/gru-cmu/best -o pose3d.npz
    poseda --plugin examples/own_lifter.py export -c runs/gru-cmu/best --onnx gru.onnx

Run as a script, it trains and evaluates through the library instead:

    python examples/own_lifter.py --source h36m --epochs 5 --run-dir runs/my_lifter
"""
from __future__ import annotations

import argparse

from torch import nn

from poseda.config import load_config
from poseda.models import register_lifter
from poseda.skeleton.layouts import JOINT_SETS
from poseda.train.engine import Trainer


@register_lifter("gru")
class GRULifter(nn.Module):
    """A small recurrent lifter over a window of frames: an example, not a tuned model."""

    #: the ranges a config's options may take, checked before anything is built
    option_ranges = {"frames": (1, 243), "hidden": (1, 4096)}

    def __init__(self, layout, frames: int = 9, hidden: int = 256):
        super().__init__()
        self.layout = layout
        self.receptive_field = frames
        j = layout.num_joints
        self.gru = nn.GRU(2 * j, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, 3 * j)

    def forward(self, x):
        b, t, j, _ = x.shape
        h, _ = self.gru(x.reshape(b, t, 2 * j))
        return self.head(h[:, t // 2]).view(b, j, 3)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default="h36m")
    ap.add_argument("--joints", default="h36m17", choices=sorted(JOINT_SETS))
    ap.add_argument("--cache", default=None)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--run-dir", default="runs/gru_lifter")
    ap.add_argument("overrides", nargs="*", help="more config overrides, key.sub=value")
    args = ap.parse_args(argv)
    cfg = load_config("simple_baseline", [f"data.source={args.source}", f"data.joints={args.joints}",
                                          f"train.epochs={args.epochs}", f"run.dir={args.run_dir}",
                                          "run.name=gru_lifter", *([f"data.cache={args.cache}"] if args.cache else []),
                                          *args.overrides])
    trainer = Trainer(cfg, model=GRULifter(JOINT_SETS[args.joints]))
    trainer.fit()
    report = trainer.final_report()
    print(report.to_markdown().split("**per action**")[0])
    return report


if __name__ == "__main__":
    main()
