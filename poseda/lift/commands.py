"""What the footage commands do, behind their options objects (:mod:`poseda.lift.options`):
``poseda lift``, ``demo``, ``viz``, ``detect`` and ``export``. Each function checks its inputs
and where it will write before any work, runs, and reports through ``echo`` (one call per line);
:mod:`poseda.cli` only parses the flags into the options and hands ``typer.echo`` in. Python code
calls the same functions (``lift_command(LiftOptions(keypoints=..., out=...), print)``).

``adapt_with`` is :func:`poseda.adapt.footage.adapt_to_keypoints`, handed in by the caller (the
adaptation sits beside this package, not under it)."""
from __future__ import annotations

import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Callable

from poseda.errors import PosedaInputError
from poseda.lift.options import DemoOptions, DetectOptions, LiftOptions, OnnxOptions, VizOptions

Echo = Callable[[str], None]


def lift_command(o: LiftOptions, echo: Echo = print, adapt_with: Callable | None = None) -> None:
    """``poseda lift``: with ``o.adapt`` the lifter is first adapted to the keypoints (``adapt_with``)."""
    from poseda.fileio import check_input, check_output, refuse_existing
    from poseda.lift.lifting import check_suffix, lift_file
    from poseda.models.bundled import resolve_checkpoint

    checkpoint = resolve_checkpoint(o.checkpoint)  # resolved once: the adaptation and the lift use this path
    check_input(o.keypoints, "any", "keypoint file or folder")
    check_output(o.out, [o.keypoints, checkpoint, Path(checkpoint).with_suffix(".json")], "file", "output")
    check_suffix(o.out)  # before any work (--adapt trains first)
    refuse_existing([o.out], o.force)
    t0 = time.perf_counter()
    if o.adapt:
        if adapt_with is None:
            raise PosedaInputError("--adapt", "needs the adaptation (poseda.adapt.footage.adapt_to_keypoints) handed in")
        checkpoint = _adapt_first(o, checkpoint, echo, adapt_with)
    lifted, report = lift_file(replace(o, checkpoint=checkpoint))
    cam, model = lifted.meta["camera"], lifted.meta["model"]
    echo(f"{o.keypoints}: {lifted.meta['input']['keypoint_description']} -> {model['joint_set']} ({model['name']}, "
         f"{model['receptive_field']} frame(s), flip test {'on' if o.flip_test else 'off'})")
    echo(f"camera: f = {cam['fx_px']:.1f} px, centre ({cam['cx_px']:.1f}, {cam['cy_px']:.1f}), "
         f"{cam['horizontal_fov_deg']:.1f} deg horizontal ({cam['source']})")
    for line in report:
        echo(line)
    if o.smoothing.kind != "none":
        echo(f"smoothed: {o.smoothing.describe()} at {o.fps:g} fps")
    suffix = o.out.suffix.lower()
    what = ("BVH, centimetres, y up" if suffix == ".bvh" else "OpenSim markers, metres, Y up" if suffix == ".trc" else
            f"metres, camera frame{', with absolute root' if o.absolute else ''}"
            f"{', and the world frame (z up)' if o.world else ''}")
    echo(f"written: {o.out} ({what}) in {time.perf_counter() - t0:.2f} s")


def _adapt_first(o: LiftOptions, checkpoint: Path, echo: Echo, adapt_with: Callable) -> Path:
    """``poseda lift --adapt``: adapt to the keypoints, write the lifter as OUT-adapted and return
    it (or the given checkpoint, with the reason printed, when the clip cannot be adapted to)."""
    from poseda.fileio import refuse_existing
    from poseda.lift.demo import adapted_lifter

    stem = o.out.with_name(o.out.name.split(".")[0] + "-adapted")
    refuse_existing([stem.with_suffix(".json")], o.force)
    adapt = partial(adapt_with, fps=o.fps, focal=o.reading.focal, fov_deg=o.reading.fov, device=o.device, progress=True)
    adapted, lines = adapted_lifter(adapt, o.keypoints, checkpoint, stem)
    for line in lines:
        echo(line)
    if adapted is None:
        return checkpoint
    echo(f"written: {stem}.json (the adapted lifter; use it again with -c {stem})")
    return adapted


def demo_command(o: DemoOptions, echo: Echo = print, adapt_with: Callable | None = None) -> None:
    """``poseda demo``: with ``o.adapt`` the lifter is adapted to the video's own 2D (``adapt_with``)."""
    from poseda.fileio import check_input, check_output
    from poseda.lift.demo import demo_paths, run_demo

    check_input(o.video, "file", "video")
    check_output(o.out, [o.video], "dir", "output folder")
    for p in demo_paths(o.video, o.out, o.suffix).values():
        check_output(p, [o.video], "file", "output")
    if o.adapt and adapt_with is None:
        raise PosedaInputError("--adapt", "needs the adaptation (poseda.adapt.footage.adapt_to_keypoints) handed in")
    res = run_demo(o, adapt_with if o.adapt else None)
    meta = res.lifted.meta
    echo(f"{o.video}: {res.frames} frames at {res.fps:g} fps; {meta['input']['keypoint_description']} -> "
         f"{meta['model']['joint_set']} ({meta['model']['name']}, {meta['model']['receptive_field']} frame(s), "
         f"flip test on); smoothing: {meta['smoothing']['description']}")
    for line in res.report:
        echo(line)
    for kind, paths in res.files.items():
        echo(f"written ({kind}): " + ", ".join(str(p) for p in paths))
    echo(res.timing_line())


def viz_command(o: VizOptions, echo: Echo = print) -> None:
    """``poseda viz``: a PNG of one frame, a GIF / MP4 of a track, or the HTML scene."""
    from poseda.fileio import check_input, check_output, refuse_existing
    from poseda.lift.lifting import read_lifted
    from poseda.lift.viz import ANIMATION_SUFFIXES, render_frame, render_sequence

    check_input(o.lifted, "file", "lift output")
    check_output(o.out, [o.lifted], "file", "picture")
    refuse_existing([o.out], o.force)
    data = read_lifted(o.lifted)
    rate = float(data.meta.get("fps") or 25.0)
    if o.out.suffix.lower() == ".html":
        from poseda.lift.html import write_html

        echo(f"written: {write_html(data, o.out, o.fps or rate)} (open it in a browser)")
    elif o.out.suffix.lower() in ANIMATION_SUFFIXES:
        fps = o.fps or rate / o.stride
        path, n = render_sequence(data, o.out, o.track, fps, o.stride, o.max_frames)
        echo(f"written: {path} ({n} frames at {fps:g} fps)")
    else:
        echo(f"written: {render_frame(data, o.out, o.frame, o.track)}")


def detect_command(o: DetectOptions, echo: Echo = print) -> None:
    """``poseda detect``: every person's 2D keypoints of an image, a folder or a video."""
    from poseda.fileio import check_input, check_output, refuse_existing
    from poseda.keypoints.detect import detect_keypoints

    check_input(o.source, "any", "image, folder or video")
    check_output(o.out, [o.source], "file", "keypoint file")
    refuse_existing([o.out], o.force)
    t0 = time.perf_counter()
    n, found = detect_keypoints(o.source, o.out, o.every, o.max_frames, o.min_confidence, o.max_people, o.progress,
                                o.detector, o.tiles)
    echo(f"{o.source}: people in {found} of {n} frame(s) -> {o.out} ({time.perf_counter() - t0:.1f} s)")


def onnx_command(o: OnnxOptions, echo: Echo = print) -> None:
    """``poseda export``: the lifter as ONNX, checked against PyTorch through onnxruntime if asked."""
    from poseda.fileio import check_output, refuse_existing
    from poseda.inference import load_lifter
    from poseda.lift.export import export_onnx
    from poseda.models.bundled import resolve_checkpoint

    checkpoint = resolve_checkpoint(o.checkpoint)
    check_output(o.onnx_path, [checkpoint, Path(checkpoint).with_suffix(".json")], "file", "ONNX file")
    refuse_existing([o.onnx_path], o.force, "ONNX file")
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise PosedaInputError("--onnx", "needs onnx and onnxscript: pip install 'poseda[onnx]'") from None
    model, rec, layout = load_lifter(checkpoint)
    check = o.check
    if check:
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            check = False
            echo("not checked: onnxruntime is not installed (pip install 'poseda[onnx]')")
    path, diff = export_onnx(model, o.onnx_path, rec, check=check)
    echo(f"written: {path} ({rec['model']['name']}, {layout.name}, {model.receptive_field} frame(s); "
         f"input keypoints2d [batch, {model.receptive_field}, {layout.num_joints}, 2] normalised screen units)")
    if diff is not None:
        echo(f"onnxruntime vs PyTorch: max |difference| {diff * 1000:.2e} mm on random inputs")


__all__ = ["lift_command", "demo_command", "viz_command", "detect_command", "onnx_command"]
