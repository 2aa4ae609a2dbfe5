"""The scene page in a real browser: Debian's Chromium, headless, renders it from the file with
nothing fetched; the people are drawn in their colours, the frame, the orbit and play change what
is drawn."""
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from poseda.lift.html import page_data, write_html
from poseda.lift.lifting import Lifted
from poseda.lift.overlay import PALETTE
from poseda.skeleton.layouts import H36M16

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--hide-scrollbars", "--window-size=800,600"]


def _walkers(frames=60, people=3):
    """People walking side by side across a floor (z up), standing on it."""
    rest = np.zeros((len(H36M16.joints), 3))
    heights = {"Pelvis": 0.95, "RHip": 0.95, "LHip": 0.95, "RKnee": 0.5, "LKnee": 0.5, "RAnkle": 0.1, "LAnkle": 0.1,
               "Spine": 1.2, "Thorax": 1.45, "Head": 1.7, "LShoulder": 1.45, "RShoulder": 1.45, "LElbow": 1.15, "RElbow": 1.15,
               "LWrist": 0.9, "RWrist": 0.9}
    for j, n in enumerate(H36M16.joints):
        rest[j] = [(-0.2 if n[0] == "R" else 0.2 if n[0] == "L" else 0.0), 0.0, heights[n]]
    rows = []
    for k in range(people):
        for f in range(frames):
            rows.append(rest + np.array([2.0 * k - 2.0, 4.0 + 0.04 * f, 0.0]))
    world = np.array(rows)
    n = len(world)
    track = np.repeat(np.arange(people), frames)
    return Lifted(tuple(H36M16.joints), track, np.zeros(n, int), np.tile(np.arange(frames), people), np.ones(n, bool),
                  world - world[:, :1], np.zeros((n, 16, 2)), np.zeros((n, 16), bool), None, {"parents": list(H36M16.parents)},
                  world, np.ones((n, 2), bool))


def _chromium(url: str, *extra: str) -> subprocess.CompletedProcess:
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is needed for the browser test (apt-get install chromium; .ci/run installs it)")
    return subprocess.run([CHROMIUM, *FLAGS, *extra, url], capture_output=True, text=True, timeout=120)


def _shot(page, tmp_path, fragment: str) -> np.ndarray:
    out = tmp_path / f"shot-{abs(hash(fragment))}.png"
    _chromium(f"{page.as_uri()}#{fragment}", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={out}")
    return np.asarray(Image.open(out).convert("RGB")).astype(int)


def _has_colour(img: np.ndarray, bgr) -> int:
    rgb = np.array(bgr[::-1])
    return int((np.abs(img - rgb).sum(-1) < 40).sum())


def test_the_page_draws_everyone_and_follows_frame_orbit_and_play(tmp_path):
    lifted = _walkers()
    page = write_html(lifted, tmp_path / "scene.html", 30.0, title="walkers <test>")
    text = page.read_text()
    assert "http://" not in text and "https://" not in text and "<script src" not in text  # nothing fetched
    assert "walkers &lt;test&gt;" in text
    first = _shot(page, tmp_path, "frame=0")
    later = _shot(page, tmp_path, "frame=59")
    turned = _shot(page, tmp_path, "frame=0&yaw=0&pitch=60")
    for k in range(3):  # each person in the colour of their 2D overlay
        assert _has_colour(first, PALETTE[k]) > 30, k
    assert np.abs(first - later).sum() > 0 and np.abs(first - turned).sum() > 0
    # playing advances the frame; paused it stays
    dom = _chromium(f"{page.as_uri()}#play=1", f"--user-data-dir={tmp_path / 'p2'}", "--virtual-time-budget=1500",
                    "--dump-dom").stdout
    frame = int(dom.split('id="label">frame ')[1].split(" ")[0])
    assert frame > 10 and 'id="play">Pause' in dom
    dom = _chromium(f"{page.as_uri()}#frame=7", f"--user-data-dir={tmp_path / 'p3'}", "--virtual-time-budget=1500",
                    "--dump-dom").stdout
    assert 'id="label">frame 7 / 59' in dom and 'id="play">Play' in dom


def test_page_data_is_the_world_in_metres():
    lifted = _walkers(frames=5, people=2)
    d = page_data(lifted, 25.0)
    assert d["floor"] == 0.0 and d["frames"] == list(range(5)) and len(d["people"]) == 2
    xyz = np.array(d["people"][1]["xyz"]).reshape(5, 16, 3)
    np.testing.assert_allclose(xyz, lifted.world[lifted.track == 1], atol=1e-3)
    assert d["people"][0]["colour"] == "#{:02x}{:02x}{:02x}".format(*PALETTE[0][::-1])
