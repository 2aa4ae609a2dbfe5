"""A self-contained web page that plays a lift's scene in 3D: every person on the ground, orbit
(drag), zoom (wheel), play/pause (button or space) and a frame slider. One HTML file with the
motion inside it and its JavaScript written here (no library, nothing fetched): it works offline,
from a file, in any current browser.

The page shows the scene's world when the lift has one (``--world``, the demo's default: z up,
metres, the 1 m grid on the estimated ground), else the camera frame turned upright. Each person
has the colour of the demo video's 2D overlay, an ID label and a trail of the last two seconds of
their path. The URL's fragment sets the view: ``#frame=K&yaw=DEG&pitch=DEG&dist=M&play=1``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from poseda.fileio import atomic_write
from poseda.lift.lifting import Lifted

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>poseda: __TITLE__</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
html,body{margin:0;height:100%;background:#181818;color:#ddd;font:13px system-ui,sans-serif;overflow:hidden}
canvas{display:block;width:100%;height:calc(100% - 40px);cursor:grab}
#bar{height:40px;display:flex;gap:10px;align-items:center;padding:0 10px;background:#242424;box-sizing:border-box}
#bar button{width:64px} #slider{flex:1} #label{white-space:nowrap}
#info{color:#999;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:45%}
</style></head>
<body><canvas id="view"></canvas>
<div id="bar"><button id="play">Play</button><input id="slider" type="range" min="0" value="0" step="1">
<span id="label">frame 0</span><span id="info"></span></div>
<script id="scene" type="application/json">__DATA__</script>
<script>
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("scene").textContent);
  const canvas = document.getElementById("view"), ctx = canvas.getContext("2d");
  const slider = document.getElementById("slider"), label = document.getElementById("label");
  const button = document.getElementById("play");
  const J = D.joints.length, frames = D.frames, last = frames.length - 1;
  slider.max = String(last);
  document.getElementById("info").textContent = D.info;
  // every person's rows by frame index, and the scene's centre and size
  let lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  const byIndex = frames.map(() => []);
  D.people.forEach((p, k) => {
    p.index = new Map();
    p.frames.forEach((f, i) => {
      const t = D.frameIndex[f];
      byIndex[t].push([k, i]);
      p.index.set(t, i);
      for (let j = 0; j < J; j++) for (let a = 0; a < 3; a++) {
        const v = p.xyz[i][3 * j + a];
        lo[a] = Math.min(lo[a], v); hi[a] = Math.max(hi[a], v);
      }
    });
  });
  const target = [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, D.floor + 0.9];
  const span = Math.max(hi[0] - lo[0], hi[1] - lo[1], 3);
  const state = {frame: 0, yaw: -90, pitch: 25, dist: span * 1.1 + 2, playing: false};
  // the fragment sets the view: #frame=K&yaw=DEG&pitch=DEG&dist=M&play=1
  for (const part of location.hash.replace(/^#/, "").split("&")) {
    const [k, v] = part.split("="), x = parseFloat(v);
    if (!isFinite(x)) continue;
    if (k === "frame") state.frame = Math.max(0, Math.min(last, Math.round(x)));
    if (k === "yaw") state.yaw = x;
    if (k === "pitch") state.pitch = Math.max(-5, Math.min(89, x));
    if (k === "dist") state.dist = Math.max(0.5, x);
    if (k === "play") state.playing = x > 0;
  }
  function camera() {  // an orbit camera around the target, z up
    const y = state.yaw * Math.PI / 180, p = state.pitch * Math.PI / 180;
    const eye = [target[0] + state.dist * Math.cos(p) * Math.cos(y), target[1] + state.dist * Math.cos(p) * Math.sin(y),
                 target[2] + state.dist * Math.sin(p)];
    const f = [target[0] - eye[0], target[1] - eye[1], target[2] - eye[2]];
    const n = Math.hypot(...f); f[0] /= n; f[1] /= n; f[2] /= n;
    let r = [f[1], -f[0], 0]; const rn = Math.hypot(...r) || 1; r = r.map(v => v / rn);
    const u = [r[1] * f[2] - r[2] * f[1], r[2] * f[0] - r[0] * f[2], r[0] * f[1] - r[1] * f[0]];
    const focal = 0.9 * Math.min(canvas.width, canvas.height);
    return function (x, yy, z) {
      const d = [x - eye[0], yy - eye[1], z - eye[2]];
      const depth = d[0] * f[0] + d[1] * f[1] + d[2] * f[2];
      if (depth < 0.05) return null;
      return [canvas.width / 2 + focal * (d[0] * r[0] + d[1] * r[1] + d[2] * r[2]) / depth,
              canvas.height / 2 - focal * (d[0] * u[0] + d[1] * u[1] + d[2] * u[2]) / depth];
    };
  }
  function line(a, b, colour, width) {
    if (!a || !b) return;
    ctx.strokeStyle = colour; ctx.lineWidth = width;
    ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
  }
  function lighter(hex) {
    const v = parseInt(hex.slice(1), 16), c = [v >> 16, (v >> 8) & 255, v & 255].map(x => Math.round(x + (255 - x) * 0.5));
    return "rgb(" + c.join(",") + ")";
  }
  function draw() {
    const dpr = window.devicePixelRatio || 1, w = canvas.clientWidth * dpr, h = canvas.clientHeight * dpr;
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    ctx.fillStyle = "#181818"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    const P = camera(), g0x = Math.floor(lo[0]) - 2, g1x = Math.ceil(hi[0]) + 2, g0y = Math.floor(lo[1]) - 2, g1y = Math.ceil(hi[1]) + 2;
    for (let x = g0x; x <= g1x; x++) line(P(x, g0y, D.floor), P(x, g1y, D.floor), "#3a3a3a", 1);
    for (let y = g0y; y <= g1y; y++) line(P(g0x, y, D.floor), P(g1x, y, D.floor), "#3a3a3a", 1);
    const t = state.frame, trail = Math.round(2 * D.fps);
    for (const [k, i] of byIndex[t]) {
      const p = D.people[k], q = p.xyz[i], pts = [];
      for (let j = 0; j < J; j++) pts.push(P(q[3 * j], q[3 * j + 1], q[3 * j + 2]));
      ctx.globalAlpha = 0.8;
      const path = [];
      for (let s = Math.max(0, t - trail); s <= t; s++) if (p.index.has(s)) {
        const r = p.xyz[p.index.get(s)]; path.push(P(r[0], r[1], D.floor));
      }
      for (let s = 1; s < path.length; s++) line(path[s - 1], path[s], p.colour, 1.5);
      ctx.globalAlpha = 1;
      D.parents.forEach((par, j) => { if (par >= 0) line(pts[par], pts[j], D.joints[j][0] === "R" ? lighter(p.colour) : p.colour, 3); });
      let top = null; for (const s of pts) if (s && (!top || s[1] < top[1])) top = s;
      if (top) { ctx.fillStyle = p.colour; ctx.font = (12 * dpr) + "px system-ui,sans-serif"; ctx.fillText("P" + p.id, top[0] - 8, top[1] - 8); }
    }
    slider.value = String(t);
    label.textContent = "frame " + frames[t] + " / " + frames[last];
    button.textContent = state.playing ? "Pause" : "Play";
  }
  let clock = null, timer = null;
  function tick() {  // a timer, not animation frames: it runs in a hidden tab and in headless tests too
    timer = null;
    if (!state.playing) { clock = null; return; }
    const now = performance.now();
    if (clock === null) clock = now;
    const steps = Math.floor((now - clock) * D.fps / 1000);
    if (steps > 0) { clock += steps * 1000 / D.fps; state.frame = state.frame + steps > last ? 0 : state.frame + steps; draw(); }
    timer = setTimeout(tick, 1000 / D.fps);
  }
  function setPlaying(on) { state.playing = on; draw(); if (on && timer === null) tick(); }
  button.addEventListener("click", () => setPlaying(!state.playing));
  slider.addEventListener("input", () => { state.frame = parseInt(slider.value, 10); draw(); });
  window.addEventListener("keydown", e => { if (e.code === "Space") { e.preventDefault(); setPlaying(!state.playing); } });
  let drag = null;
  canvas.addEventListener("pointerdown", e => { drag = [e.clientX, e.clientY]; canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener("pointerup", () => { drag = null; });
  canvas.addEventListener("pointermove", e => {
    if (!drag) return;
    state.yaw -= (e.clientX - drag[0]) * 0.4; state.pitch = Math.max(-5, Math.min(89, state.pitch + (e.clientY - drag[1]) * 0.3));
    drag = [e.clientX, e.clientY]; draw();
  });
  canvas.addEventListener("wheel", e => { e.preventDefault(); state.dist = Math.max(0.5, state.dist * Math.exp(e.deltaY * 0.001)); draw(); },
                          {passive: false});
  window.addEventListener("resize", draw);
  window.poseda = {state, draw, setPlaying};
  draw();
  if (state.playing) tick();
})();
</script></body></html>
"""


def page_data(lifted: Lifted, fps: float) -> dict:
    """What the page plays: every person's joints per frame in a z-up frame, metres."""
    from poseda.lift.overlay import PALETTE, scene_points

    pts = scene_points(lifted)[..., [0, 2, 1]]  # upright scene (x right, y up, z away) -> z up
    frames = np.unique(lifted.frame)
    people = []
    for k, t in enumerate(np.unique(lifted.track)):
        r = np.flatnonzero(lifted.track == t)
        r = r[np.argsort(lifted.frame[r], kind="stable")]
        b, g, rr = PALETTE[k % len(PALETTE)]
        people.append({"id": int(t), "colour": f"#{rr:02x}{g:02x}{b:02x}", "frames": lifted.frame[r].tolist(),
                       "xyz": np.round(pts[r].reshape(len(r), -1), 3).tolist()})
    floor = 0.0 if lifted.world is not None else float(pts[..., 2].min(initial=0.0))
    what = ("world frame, z up, 1 m grid on the estimated ground" if lifted.world is not None
            else "camera frame turned upright (no --world)")
    return {"fps": float(fps), "frames": frames.tolist(), "frameIndex": {int(f): i for i, f in enumerate(frames)},
            "joints": list(lifted.joints), "parents": list(lifted.parents), "people": people, "floor": floor,
            "info": f"{len(people)} people, {len(frames)} frames at {fps:g} fps; {what}; drag to orbit, wheel to zoom"}


def html_text(lifted: Lifted, fps: float, title: str) -> str:
    data = json.dumps(page_data(lifted, fps), separators=(",", ":")).replace("</", "<\\/")
    safe = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _PAGE.replace("__TITLE__", safe).replace("__DATA__", data)


def write_html(lifted: Lifted, path: str | Path, fps: float, title: str | None = None) -> Path:
    """The page (see the module doc), written whole or not at all."""
    path = Path(path)
    text = html_text(lifted, fps, title or path.stem)
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
