"""Every ``poseda ...`` command the README, docs/, examples/, benchmarks/ and the package's
docstrings show names a command and options that the CLI has: a renamed or removed flag fails
here instead of in a reader's terminal. Every complete one (not a template with placeholders,
not a mention of a command without its arguments) is also parsed as the CLI parses it and its
options object made, so a value the command refuses (a bad ``--smooth`` kind, an even
``--window``, an unknown method) fails here too. (The commands are not run: the ones the README's
recipes rely on are run by their own tests.)"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer

try:  # newer typer carries its own copy of click
    from typer import _click as click
    from typer._click.exceptions import BadOptionUsage, MissingParameter
except ImportError:  # pragma: no cover - older typer runs on click itself
    import click
    from click.exceptions import BadOptionUsage, MissingParameter

from poseda.cli import _build, app
from poseda.errors import PosedaInputError

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "examples").glob("*.py")),
           *sorted((ROOT / "examples").glob("*.yaml")), *sorted((ROOT / "benchmarks").glob("*.py")),
           *sorted((ROOT / "poseda").rglob("*.py"))]


def shown_commands(text: str) -> list[str]:
    """``poseda ...`` commands in fenced shell blocks and in inline code, one per command of a chain."""
    lines = [line for block in re.findall(r"```(?:bash|sh|console|shell)?\n(.*?)```", text, re.S)
             for line in block.splitlines()]
    lines += re.findall(r"`(poseda [^`]+)`", text)
    out = []
    for line in lines:
        line = line.split(" #")[0].strip().removeprefix("$ ").strip()
        out += [part.strip() for part in re.split(r"&&|\|\||;|\|", line) if part.strip().startswith("poseda ")]
    return out


def problem(command: str) -> str | None:
    """What in ``command`` the CLI does not know, or None. Placeholders (``VIDEO``, ``...``) pass."""
    try:
        tokens = shlex.split(command)[1:]
    except ValueError as e:
        return f"cannot be split like a shell line ({e})"
    cmd, i = typer.main.get_command(app), 0
    while i < len(tokens):
        token = tokens[i]
        if hasattr(cmd, "get_command") and not token.startswith("-"):  # a group: the next word is a command
            sub = cmd.get_command(click.Context(cmd), token)
            if sub is None:
                return None if token.isupper() or "..." in token else f"no command {token!r}"
            cmd, i = sub, i + 1
            continue
        if token.startswith("-") and token != "-":
            name = token.split("=")[0]
            param = next((p for p in cmd.params if name in [*getattr(p, "opts", []), *getattr(p, "secondary_opts", [])]), None)
            if param is None and name != "--help":
                return f"{cmd.name or 'poseda'} has no option {name!r}"
            if param is not None and not param.is_flag and not getattr(param, "count", False) and "=" not in token:
                i += max(param.nargs, 1)  # its value(s)
        i += 1
    return None


def test_every_command_shown_is_one_the_cli_takes():
    shown = [(path, c) for path in SOURCES for c in shown_commands(path.read_text(encoding="utf-8"))]
    assert len(shown) > 150  # the README and docs show many; a broken extraction would find none
    bad = [f"{path.relative_to(ROOT)}: {c!r}: {problem(c)}" for path, c in shown if problem(c)]
    assert not bad, "\n".join(bad)


def test_the_check_sees_a_stale_flag_and_a_missing_command():
    assert problem("poseda lift kp.json -o x.bvh --fov 65 --smooth savgol") is None
    assert problem("poseda --plugin examples/scaled_gpa.py adapt runs/x -t cmu-3dhp -m gpa_scaled") is None
    assert problem("poseda lift kp.json --nonsense 3") == "lift has no option '--nonsense'"
    assert problem("poseda frobnicate x") == "no command 'frobnicate'"
    assert problem("poseda data prepare --domain h36m --force") is None
    assert "no option '--forse'" in problem("poseda data prepare --forse")


def _is_placeholder(token: str) -> bool:
    """VIDEO, SOURCE_CKPT, <footage>, [overrides], ...: a template's slot, not a value."""
    word = token.split("=")[-1]
    return (word.isupper() and word.strip("_-") != "") or word.startswith(("<", "[")) or "..." in word


def made_options(command: str):
    """The options object the CLI makes from ``command`` (after parsing it as click does), None
    for a template or a mention without the command's required arguments; a value the command
    refuses raises (PosedaInputError, or click's usage error)."""
    tokens = shlex.split(command)[1:]
    while tokens and tokens[0] in ("--plugin", "--debug"):
        tokens = tokens[2:] if tokens[0] == "--plugin" else tokens[1:]
    if any(_is_placeholder(t) for t in tokens):
        return None
    cmd, i = typer.main.get_command(app), 0
    while hasattr(cmd, "get_command") and i < len(tokens):
        sub = cmd.get_command(click.Context(cmd), tokens[i])
        if sub is None:
            return None
        cmd, i = sub, i + 1
    cls = getattr(cmd.callback, "options_class", None)
    if cls is None:
        return None
    try:
        ctx = cmd.make_context(cmd.name, tokens[i:])
    except (MissingParameter, BadOptionUsage):  # `poseda lift` named in a sentence
        return None
    return _build(cls, ctx.params, {"overrides": list(ctx.args)} if "overrides" in cls.__dataclass_fields__ else {})


def test_every_complete_command_shown_makes_its_options():
    shown = [(path, c) for path in SOURCES for c in shown_commands(path.read_text(encoding="utf-8"))]
    made, bad = 0, []
    for path, c in shown:
        try:
            made += made_options(c) is not None
        except PosedaInputError as e:
            bad.append(f"{path.relative_to(ROOT)}: {c!r}: {e}")
        except click.ClickException as e:
            bad.append(f"{path.relative_to(ROOT)}: {c!r}: {e.format_message()}")
    assert not bad, "\n".join(bad)
    assert made > 60  # most commands shown are complete ones


def test_the_options_check_sees_a_refused_value():
    assert made_options("poseda lift kp.json -o x.bvh --smooth savgol --window 9").smoothing.window == 9
    assert made_options("poseda lift KEYPOINTS -o x.bvh") is None and made_options("poseda lift") is None
    for c in ("poseda lift kp.json -o x.bvh --smooth wobble", "poseda lift kp.json -o x.json --window 4 --smooth savgol",
              "poseda adapt runs/x -t cmu-3dhp -m nope", "poseda detect clip.mp4 -o k.json --every 0"):
        with pytest.raises(PosedaInputError):
            made_options(c)
    with pytest.raises(click.ClickException):
        made_options("poseda lift kp.json -o x.json --fps fast")
