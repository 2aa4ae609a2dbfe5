"""What a lifter learns from, as a plug-in of the training loop.

:class:`~poseda.train.engine.Trainer` owns everything around one step: the seeded epoch
permutation, each process's share of a global batch under DDP, gathering windows on the device,
flip augmentation, autocast, the lifter's optimiser step, validation, logging and checkpoints. A
:class:`Method` owns the step itself: given a :class:`Batch` it returns the lifter's loss and a
few figures; networks of its own (an augmentor, discriminators) it updates inside the step and
declares in :meth:`Method.state` so that ``last`` saves and resumes them.

The class attributes are declarations read by the engine, the benchmark, the command-line help
and the config checks; a method changes them by overriding, never at run time.
"""
from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import torch
from torch import nn

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from poseda.data.codec import PoseCodec
    from poseda.data.device import DeviceSet
    from poseda.skeleton.layouts import JointLayout


class Processes(Protocol):
    """This process's place among those of a run (one, or ``torchrun``'s under DDP)."""

    rank: int
    world: int

    @property
    def main(self) -> bool:
        """The process that logs, saves and evaluates."""
        ...


class TrainingLoop(Protocol):
    """What a :class:`Batch` and a :class:`Method` use of the loop that runs them. The loop is a
    :class:`poseda.train.engine.Trainer` (for adaptation a :class:`poseda.adapt.Adapter`, which
    also holds the ``target`` domain); it is described here rather than imported because the
    engine imports this module, and the dependency goes one way."""

    cfg: DictConfig
    #: the lifter itself (not wrapped for DDP): for a method's own no-gradient predictions
    model: nn.Module
    codec: PoseCodec
    layout: JointLayout
    device: torch.device
    #: the training pairs on the device
    train_set: DeviceSet
    receptive_field: int
    chunk: int
    chunk_step: int

    #: the epoch being trained (0-based), and its random stream, the same in every process
    epoch: int
    rng: torch.Generator
    #: this process among the run's (a method logs or saves only in the main one)
    dist: Processes

    def lift(self, x: torch.Tensor) -> torch.Tensor:
        """The lifter's training forward (DDP, autocast) of 2D inputs."""
        ...

    def share(self, t: torch.Tensor) -> torch.Tensor:
        """This process's share of a global batch."""
        ...

    def draw_frames(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """This process's share of ``n`` random training frames."""
        ...

    def average_gradients(self, params) -> None:
        """Average the gradients of a method's own networks over the processes."""
        ...


def pose_errors(pred: torch.Tensor, target: torch.Tensor, root: int = 0) -> torch.Tensor:
    """[B] mean per-joint position error (metres) of each root-aligned prediction.

    >>> pose_errors(torch.zeros(1, 2, 3), torch.tensor([[[0.0, 0, 0], [0, 0.3, 0.4]]]))
    tensor([0.2500])
    """
    pred = pred - pred[:, root : root + 1]
    return (pred - target).norm(dim=-1).mean(-1)


def pose_loss(pred: torch.Tensor, target: torch.Tensor, root: int = 0) -> torch.Tensor:
    """Mean per-joint position error (metres) of root-aligned predictions."""
    return pose_errors(pred, target, root).mean()


class Batch:
    """This process's share of one global batch of training frames, mirrored where drawn.

    ``x`` [B, T, J, 2] inputs and ``y`` [B, J, 3] root-relative targets of the centre frames; with
    chunked training ``x`` is [B, (chunk - 1) * step + T, J, 2], ``y`` [B, chunk, J, 3] and
    ``valid`` [B, chunk] masks the frames past the end of a short view. ``pose3d`` (absolute
    camera-frame windows) and ``intrinsics`` (each frame's camera, mirrored with the frame) are
    gathered only when a method asks for them.
    """

    def __init__(self, trainer: TrainingLoop, idx: torch.Tensor, flip: torch.Tensor, global_size: int):
        self.trainer, self.idx, self.flip, self.global_size = trainer, idx, flip, global_size
        t, ts = trainer, trainer.train_set
        self.valid = None
        if t.chunk > 1:
            win, out, self.valid = ts.chunk_index(idx, t.chunk, t.receptive_field, t.chunk_step)
            x, y = ts.inputs[win], ts.targets[out]
        else:
            x, y = ts.windows(idx, t.receptive_field), ts.targets[idx]
        if t.cfg.train.flip_augment:
            f = flip.view(-1, *[1] * (x.dim() - 1))
            x = torch.where(f, t.codec.flip_2d(x, t.layout), x)
            y = torch.where(f.view(-1, *[1] * (y.dim() - 1)), t.codec.flip_3d(y, t.layout), y)
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.idx)

    @property
    def frames(self) -> int:
        """Output frames in this share (batch size times the chunk)."""
        return len(self.idx) * self.trainer.chunk

    @cached_property
    def pose3d(self) -> torch.Tensor:
        """[B, T, J, 3] the windows' 3D in the camera frame, metres, not root-relative."""
        t, ts = self.trainer, self.trainer.train_set
        win = ts.window_index(self.idx, t.receptive_field)
        p3 = ts.targets[win] + ts.roots[win][..., None, :]
        if t.cfg.train.flip_augment:
            p3 = torch.where(self.flip[:, None, None, None], t.codec.flip_3d(p3, t.layout), p3)
        return p3

    @cached_property
    def intrinsics(self) -> torch.Tensor:
        """[B, 4] each frame's camera (fx, fy, cx, cy), normalised, mirrored with the frame."""
        t = self.trainer
        k = t.train_set.intrinsics[self.idx]
        if t.cfg.train.flip_augment:
            k = torch.where(self.flip[:, None], t.codec.flip_intrinsics(k), k)
        return k


class Method:
    """How the lifter learns from a batch. Subclasses set the declarations and :meth:`step`."""

    name: ClassVar[str] = ""
    #: how tables, reports and help name it
    label: ClassVar[str] = ""
    #: one line for ``--help`` and the docs
    description: ClassVar[str] = ""
    #: whether it reads the target's 2D keypoints and intrinsics (never its 3D)
    reads_target_2d: ClassVar[bool] = False
    #: whose labelled pairs the lifter trains on: "source", or "target" (the oracle)
    trains_on: ClassVar[str] = "source"
    #: whether it trains on augmented poses
    augments: ClassVar[bool] = False
    #: whether it can train on runs of output frames (``train.chunk`` > 1)
    chunked: ClassVar[bool] = False
    #: keep the checkpoint with the best source-validation error; else the last epoch's
    keeps_best: ClassVar[bool] = True
    #: config sections it reads besides run, data, model, train and eval (e.g. "lpa")
    settings: ClassVar[tuple[str, ...]] = ()
    #: the per-epoch figures :meth:`epoch_figures` returns (columns of metrics.csv)
    figures: ClassVar[tuple[str, ...]] = ()
    #: options of its own with their defaults, set as ``adapt.options.<name>.<key>=value``; a given
    #: value must have its default's type (an int is accepted for a float)
    options: ClassVar[dict[str, Any]] = {}
    #: derived: nothing of the target reaches training (neither its 2D nor, as for the oracle, its 3D)
    target_free: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.trains_on not in ("source", "target"):
            raise TypeError(f"{cls.__name__}.trains_on must be 'source' or 'target', got {cls.trains_on!r}")
        cls.target_free = not (cls.reads_target_2d or cls.trains_on == "target")

    def setup(self, trainer: TrainingLoop) -> None:
        """Called once the lifter and its optimiser exist (and before a resume restores state)."""
        self.trainer = trainer

    def step(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The lifter's loss on this batch and figures to average over the epoch (0-dim tensors,
        means over this share). Networks of the method's own are updated here."""
        raise NotImplementedError

    def epoch_figures(self, epoch: int, means: dict[str, float]) -> dict[str, float]:
        """The epoch's figures from the means of what :meth:`step` returned, over every process
        (the same on each); may stop the run by raising :class:`poseda.errors.RunStopped`."""
        return {}

    def state(self) -> dict[str, tuple[nn.Module, torch.optim.Optimizer]]:
        """Networks and optimisers of the method's own, saved beside ``last`` as ``last-<key>``."""
        return {}

    def record(self) -> dict:
        """What the checkpoint record keeps about the method's run (e.g. collapse events)."""
        return {}

    def load_record(self, record: dict) -> None:
        """Take back what :meth:`record` wrote, when a run resumes."""


class Supervised(Method):
    """The lifter's error on labelled 2D-3D pairs: source training."""

    name = "supervised"
    label = "supervised"
    description = "the lifter's error on the source's 2D-3D pairs"
    chunked = True

    def step(self, batch: Batch):
        pred = self.trainer.lift(batch.x).float()
        if batch.valid is None:
            return pose_loss(pred, batch.y), {}
        # mean over the frames inside their view (no boolean indexing: no device sync)
        err = pose_errors(pred.flatten(0, 1), batch.y.flatten(0, 1)) * batch.valid.flatten()
        return err.sum() / batch.valid.sum(), {}
