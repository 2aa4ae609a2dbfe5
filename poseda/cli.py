"""The ``poseda`` command line: it only parses and reports.

Every command is one options object (a dataclass in the command's package, whose fields carry
their flags: :mod:`poseda.options`) and one function that takes it; this module turns the fields
into the command's parameters, builds the object from what was typed and calls the function with
``typer.echo``.

Bad input prints one line naming the file or argument and the problem, and exits with code 2;
nothing is written. Every command checks its arguments, its inputs and where it will write before
it starts any work; whatever still goes wrong with a file later (a full disk, a folder that is
removed meanwhile) is one line too. A run that stops itself on a condition the user asked for
(``lpa.on_collapse=stop``) exits with code 1.
"""
from __future__ import annotations

import dataclasses
import inspect
import sys
from pathlib import Path
from typing import Annotated, Callable, List, Optional, get_args, get_origin, get_type_hints

import typer
from typer.core import TyperGroup

from poseda.adapt.commands import AdaptOptions, adapt_command, methods_command, methods_help
from poseda.benchmark.commands import BenchmarkOptions, benchmark_command
from poseda.domains import commands as data
from poseda.errors import PosedaInputError, PosedaInputErrors, RunStopped
from poseda.lift import commands as footage
from poseda.lift.options import DemoOptions, DetectOptions, LiftOptions, OnnxOptions, VizOptions
from poseda.options import Arg, Opt
from poseda.train.commands import EvaluateOptions, TrainOptions, evaluate_command, train_command

#: --debug: let an unexpected exception's traceback through (set by the main callback)
_DEBUG = False

# typer carries its own copy of click; its exceptions' base class, found from a public one
_USAGE_ERRORS = tuple(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class _Group(TyperGroup):
    """Every error of every command in one line: input errors and OS errors exit 2, a run that
    stopped itself exits 1, and click's own usage errors lose their usage block."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PosedaInputError as e:
            _fail(e)
        except RunStopped as e:
            typer.echo(f"poseda: stopped: {type(e).__name__}: {e}", err=True)
            raise typer.Exit(1) from None
        except OSError as e:  # a file that could not be read or written after the checks
            where = f"{e.filename}: " if e.filename else ""
            typer.echo(f"poseda: error: {where}{e.strerror or e}", err=True)
            raise typer.Exit(2) from None
        except MemoryError:
            typer.echo("poseda: error: out of memory (reduce batch sizes, model sizes or the data)", err=True)
            raise typer.Exit(2) from None
        except SystemExit as e:  # user code (a plugin's lifter or method) that called sys.exit()
            typer.echo(f"poseda: error: code loaded with --plugin called sys.exit({e.code!r}) during "
                       f"'poseda {ctx.invoked_subcommand}': stopped", err=True)
            raise typer.Exit(2) from None
        except (*_USAGE_ERRORS, typer.Exit, typer.Abort):  # click's own: handled in main()
            raise
        except Exception as e:  # the last resort: one line, never a traceback, unless --debug
            if _DEBUG:
                raise
            inputs = [a for a in self._argv if not a.startswith("-") and a != ctx.invoked_subcommand and Path(a).exists()]
            detail = (str(e).splitlines() or [""])[0][:160]
            on = f" on {', '.join(inputs[:3])}" if inputs else ""
            typer.echo(f"poseda: error: unexpected {type(e).__name__} in 'poseda {ctx.invoked_subcommand}'{on}: {detail} "
                       "(a bug: please report it with what 'poseda --debug ...' prints)", err=True)
            raise typer.Exit(2) from None

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        self._argv = [str(a) for a in (sys.argv[1:] if args is None else args)]  # to name the inputs of a failed command
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _USAGE_ERRORS as e:  # a missing or malformed option: one line, not the usage block
            if type(e).__name__ == "NoArgsIsHelpError":
                e.show()
                rv = e.exit_code
            else:
                typer.echo(f"poseda: error: {e.format_message()}", err=True)
                rv = 2
        except typer.Abort:
            typer.echo("poseda: aborted", err=True)
            rv = 1
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(cls=_Group, add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  pretty_exceptions_enable=False, help="poseda: domain adaptation for 3D pose lifters (PoseDA).")
data_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                       help="Prepare the benchmark domains and look at their statistics.")
app.add_typer(data_app, name="data")


def _fail(e: Exception) -> None:
    for line in e.lines if isinstance(e, PosedaInputErrors) else [str(e)]:
        typer.echo(f"poseda: error: {line}", err=True)
    raise typer.Exit(2)


def _declared(cls):
    """(field, its type, its Opt or Arg or None) for each field of options class ``cls``."""
    hints = get_type_hints(cls, include_extras=True)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        base, meta = (get_args(hint)[0], get_args(hint)[1:]) if get_origin(hint) is Annotated else (hint, ())
        yield f, base, next((m for m in meta if isinstance(m, (Opt, Arg))), None)


def _fields(cls, defaults=None):
    """(name, Opt or Arg, type, default) of every command-line field of options class ``cls``; a
    group's fields (a field whose type is itself an options class) take their defaults from the
    group's default value."""
    for f, base, spec in _declared(cls):
        if defaults is not None:
            default = getattr(defaults, f.name)
        else:
            default = f.default if f.default is not dataclasses.MISSING else (
                f.default_factory() if f.default_factory is not dataclasses.MISSING else inspect.Parameter.empty)
        if spec is None and dataclasses.is_dataclass(base):
            yield from _fields(base, default)
        elif spec is not None:
            yield f.name, spec, base, default


def _parameter(name: str, spec, base, default) -> inspect.Parameter:
    kind = base if spec.cli is None else (Optional[spec.cli] if default is None else spec.cli)
    info = typer.Option(*spec.decls, help=spec.help) if isinstance(spec, Opt) else typer.Argument(help=spec.help)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[kind, info])


def _build(cls, values: dict, extra: dict):
    """The options object from the parsed values (by field name; groups built from theirs)."""
    kwargs = dict(extra)
    for f, base, spec in _declared(cls):
        if spec is not None:
            kwargs[f.name] = values[f.name]
        elif dataclasses.is_dataclass(base):
            kwargs[f.name] = _build(base, values, {})
    return cls(**kwargs)


def _command(group: typer.Typer, name: str, cls, run: Callable, extra_args: bool = False) -> None:
    """Register ``poseda NAME``: its parameters are the fields of options class ``cls``; it calls
    ``run(options)``. With ``extra_args`` the words after the options go to ``cls.overrides``."""
    params = [_parameter(*f) for f in _fields(cls)]
    names = [p.name for p in params]
    assert len(set(names)) == len(names), f"{cls.__name__}: two fields share a name in {names}"

    def command(ctx: typer.Context, **values):
        run(_build(cls, values, {"overrides": list(ctx.args)} if extra_args else {}))

    command.__signature__ = inspect.Signature(
        [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context), *params])
    command.__name__ = f"{name}_cmd"
    command.options_class = cls  # what the command makes from its flags (tests build it from shown commands)
    settings = {"allow_extra_args": True, "ignore_unknown_options": False} if extra_args else None
    group.command(name, help=inspect.getdoc(cls), context_settings=settings)(command)


@app.callback()
def _main(
    ctx: typer.Context,
    plugin: List[str] = typer.Option([], "--plugin", help="A .py file or module that registers lifters, adaptation "
                                                          "methods, keypoint formats, importers or export formats; "
                                                          "repeatable (also $POSEDA_PLUGINS)."),
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of an unexpected error (to report a bug)."),
):
    """Unsupervised domain adaptation for 2D-to-3D human pose lifters (PoseDA)."""
    from poseda.plugins import load_plugins

    global _DEBUG
    _DEBUG = debug

    load_plugins(plugin)
    if ctx.invoked_subcommand == "adapt":  # the method list is read from the registry, plugins' included
        cmd = ctx.command.get_command(ctx, "adapt")
        for param in cmd.params:
            if param.name == "method":
                param.help = f"The adaptation method (default gpa_lpa). {methods_help()}."


def _footage_adapter():
    """:func:`poseda.adapt.footage.adapt_to_keypoints`, which ``--adapt`` hands to the footage commands."""
    from poseda.adapt.footage import adapt_to_keypoints

    return adapt_to_keypoints


echo = typer.echo
_command(data_app, "prepare", data.PrepareOptions, lambda o: data.prepare_command(o, echo))
_command(data_app, "custom", data.CustomOptions, lambda o: data.custom_command(o, echo))
_command(data_app, "footage", data.FootageOptions, lambda o: data.footage_command(o, echo))
_command(data_app, "import", data.ImportOptions, lambda o: data.import_command(o, echo))
_command(data_app, "export", data.ExportOptions, lambda o: data.export_command(o, echo))
_command(data_app, "stats", data.StatsOptions, lambda o: data.stats_command(o, echo))
_command(app, "train", TrainOptions, lambda o: train_command(o, echo), extra_args=True)
_command(app, "adapt", AdaptOptions, lambda o: adapt_command(o, echo), extra_args=True)
_command(app, "benchmark", BenchmarkOptions, lambda o: benchmark_command(o, echo))
_command(app, "evaluate", EvaluateOptions, lambda o: evaluate_command(o, echo))
_command(app, "lift", LiftOptions, lambda o: footage.lift_command(o, echo, _footage_adapter() if o.adapt else None))
_command(app, "demo", DemoOptions, lambda o: footage.demo_command(o, echo, _footage_adapter() if o.adapt else None))
_command(app, "viz", VizOptions, lambda o: footage.viz_command(o, echo))
_command(app, "detect", DetectOptions, lambda o: footage.detect_command(o, echo))
_command(app, "export", OnnxOptions, lambda o: footage.onnx_command(o, echo))


@app.command("methods")
def methods_cmd():
    """List the registered adaptation methods, lifters, keypoint formats, importers and export formats."""
    methods_command(echo)


def main():
    app()


if __name__ == "__main__":
    main()
