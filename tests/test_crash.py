"""Crash consistency: a run killed (SIGKILL) at any moment, including between the files of a
checkpoint, continues to the same weights, bit for bit, as a run that was never interrupted, and
leaves no temporaries behind; a killed ``data prepare`` leaves nothing that survives the next one,
which builds the same domain."""
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .checkpoints import same, weights

pytestmark = [pytest.mark.data, pytest.mark.skipif(os.name != "posix", reason="SIGKILL")]
REPO = Path(__file__).resolve().parents[1]

# a driver that runs the CLI, killing its own process at the N-th passage of a chosen moment of a save
DRIVER = r"""
import os, signal, sys
from pathlib import Path
import poseda.models.checkpoint as ck
import poseda.data.domain as dom
moment, stem, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
seen = [0]

def hit(name):
    if name == stem:
        seen[0] += 1
        if seen[0] == nth:
            os.kill(os.getpid(), signal.SIGKILL)

if moment == "before-record":  # every tensors file written, the record not yet replaced
    write = ck.atomic_write
    ck.atomic_write = lambda path, fn: (hit(Path(path).name), write(path, fn))[1]
elif moment == "before-cleanup":  # the record replaced, the previous tensors files not yet removed
    clean = ck.clean_checkpoint_files
    ck.clean_checkpoint_files = lambda base: (hit(Path(base).name), clean(base))[1]
elif moment == "inside-tensors":  # half of a tensors file written
    save = ck.save_file
    def half(tensors, path):
        save(tensors, path)
        if Path(path).name.startswith(f".{stem}.") and seen[0] + 1 == nth:  # the save that dies: half written
            data = Path(path).read_bytes()
            Path(path).write_bytes(data[: len(data) // 2])
        if Path(path).name.startswith(f".{stem}."):
            hit(stem)
    ck.save_file = half
elif moment == "inside-domain":  # some arrays of a domain written into its temporary folder
    save = dom.np.save
    def counted(path, arr, **kw):
        save(path, arr, **kw)
        hit(stem)
    dom.np.save = counted
sys.argv = ["poseda", *sys.argv[4:]]
from poseda.cli import main
main()
"""


def _train_args(cache, run_dir, epochs=3):
    return ["train", "-c", "simple_baseline", "data.source=tiny", f"data.cache={cache}", "data.val_percent=50",
            f"run.dir={run_dir}", f"train.epochs={epochs}", "train.batch_size=256", "data.samples_per_epoch=6144",
            "model.options.width=64", "train.progress=false", "train.val_samples=1000", "eval.batch_size=1024"]


def _adapt_args(source, cache, run_dir):
    return ["adapt", str(source), "-t", "tiny-target", "-m", "gpa_lpa", f"data.cache={cache}", f"run.dir={run_dir}",
            "train.epochs=3", "train.batch_size=128", "data.samples_per_epoch=1024", "lpa.hidden=32", "train.progress=false",
            "train.val_samples=500", "eval.batch_size=1024"]


def _env():
    return dict(os.environ, OMP_NUM_THREADS="1")


def _run(args, check=True):
    r = subprocess.run([sys.executable, "-m", "poseda.cli", *args], capture_output=True, text=True, cwd=REPO, env=_env())
    if check:
        assert r.returncode == 0, r.stderr[-3000:]
    return r


def _killed_by_driver(moment, stem, nth, args):
    r = subprocess.run([sys.executable, "-c", DRIVER, moment, stem, str(nth), *args], capture_output=True, text=True, cwd=REPO,
                       env=_env())
    assert r.returncode == -signal.SIGKILL, f"{moment}: the run was not killed ({r.returncode}): {r.stderr[-2000:]}"


def _killed_after(seconds, args):
    p = subprocess.Popen([sys.executable, "-m", "poseda.cli", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         cwd=REPO, env=_env())
    time.sleep(seconds)
    p.send_signal(signal.SIGKILL)
    p.wait()


def _continue(args, run_dir):
    """What a user does after a crash: resume when the run saved an epoch, else start again."""
    _run(args + (["--resume"] if (Path(run_dir) / "last.json").exists() else []))


def _clean(run_dir, parts=()):
    """Only the files of a finished run: no temporaries, one tensors file per checkpoint and part."""
    names = sorted(p.name for p in Path(run_dir).iterdir())
    assert not [n for n in names if n.startswith(".") or ".tmp" in n], names
    for stem in ("best", "last"):
        assert len([n for n in names if n.startswith(f"{stem}.") and n.endswith(".safetensors")]) == 1, names
    for part in parts:
        assert len([n for n in names if n.startswith(f"last-{part}.")]) == 1, names
    assert {"config.yaml", "metrics.csv", "best.json", "last.json", "report.md"} <= set(names), names


@pytest.fixture(scope="module")
def reference(tiny_target, tmp_path_factory):
    base = tmp_path_factory.mktemp("crash-ref")
    _run(_train_args(tiny_target, base / "train"))
    _run(_adapt_args(base / "train" / "best", tiny_target, base / "adapt"))
    return base


@pytest.mark.parametrize("moment,nth", [("before-record", 2), ("before-cleanup", 3), ("inside-tensors", 3), ("before-record", 1)])
def test_training_killed_between_the_files_of_a_checkpoint_resumes_bit_for_bit(reference, tiny_target, tmp_path, moment, nth):
    run = tmp_path / "run"
    args = _train_args(tiny_target, run)
    _killed_by_driver(moment, "last.json" if moment == "before-record" else "last", nth, args)
    _continue(args, run)
    assert same(weights(run), weights(reference / "train")) and same(weights(run, "best"), weights(reference / "train", "best"))
    _clean(run)


@pytest.mark.parametrize("moment,stem,nth", [("before-record", "last.json", 2), ("inside-tensors", "last-augmentor", 2),
                                             ("before-cleanup", "last", 3)])
def test_adaptation_killed_while_saving_its_parts_resumes_bit_for_bit(reference, tiny_target, tmp_path, moment, stem, nth):
    run = tmp_path / "adapt"
    args = _adapt_args(reference / "train" / "best", tiny_target, run)
    _killed_by_driver(moment, stem, nth, args)
    _continue(args, run)
    for part in (None, "augmentor", "discriminators"):
        assert same(weights(run, part=part), weights(reference / "adapt", part=part)), part
    _clean(run, ("augmentor", "discriminators"))


def test_training_killed_at_random_moments_resumes_bit_for_bit(reference, tiny_target, tmp_path):
    rng = random.Random(15)
    for k in range(3):
        run = tmp_path / f"run{k}"
        args = _train_args(tiny_target, run)
        _killed_after(rng.uniform(2.0, 9.0), args)
        _killed_after(rng.uniform(2.0, 6.0), args + (["--resume"] if (run / "last.json").exists() else []))
        _continue(args, run)
        assert same(weights(run), weights(reference / "train")), k
        _clean(run)


def _domain_digest(folder: Path) -> dict:
    meta = json.loads((folder / "meta.json").read_text())
    return {"meta": {k: v for k, v in meta.items() if k != "data_root"},
            **{p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.npy"))}}


def test_prepare_killed_at_any_moment_leaves_nothing_and_builds_the_same_domain(data_root, tmp_path):
    ref = tmp_path / "ref"
    _run(["data", "prepare", "-d", "humaneva", "--data-root", str(data_root), "--cache", str(ref)])
    expected = _domain_digest(ref / "humaneva")
    rng = random.Random(15)
    cases = [("driver", 3), ("time", rng.uniform(2.5, 6.0)), ("time", rng.uniform(3.0, 8.0))]
    for k, (how, when) in enumerate(cases):
        cache = tmp_path / f"c{k}"
        args = ["data", "prepare", "-d", "humaneva", "--data-root", str(data_root), "--cache", str(cache)]
        if how == "driver":
            _killed_by_driver("inside-domain", "humaneva", when, args)
            assert any(p.name.startswith(".humaneva.") for p in cache.iterdir())  # the killed writer's temporary folder
        else:
            _killed_after(when, args)
        _run(args)
        assert sorted(p.name for p in cache.iterdir()) == ["humaneva"], (how, when)
        assert _domain_digest(cache / "humaneva") == expected
