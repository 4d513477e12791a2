"""Command-line options generated from a config dataclass: every key a flag, every flag a key.

``@config_options(ForecastConfig)`` under ``@app.command()`` adds one option per field of the
config and of its nested :class:`~lstmkit.config.TrainConfig`:

- the flag is the field name with dashes (``hidden_size`` -> ``--hidden-size``);
- the help is the field's trailing comment in the source (continued on comment-only lines
  indented past the field), followed by the task's default as click shows one (``[default: 0.2]``;
  none where ``none`` typed would mean something else, the comment says what unset means);
- metavars are typer's (``<int>``, ``<str,...>``, ``<int|none>``, ``<a|b>``), as on every other
  command; a choice list that would push the option line past 80 columns is ``<name>``;
- ``bool`` fields are ``--x/--no-x``; ``list`` fields take comma-separated values; optional
  fields (``int | None``) also take ``none``; ``Literal[...]`` fields list their choices;
- :data:`ALIASES` keeps a few older spellings (``--epochs`` for ``--max-epochs``, ``--layers``
  for ``--num-layers``, ``--absolute`` for ``--no-relative``, ``--keep-case`` for ``--no-lowercase``).

The command function receives ``flags``: a nested dict (``train:`` block as in YAML) of the
options given on the command line, and nothing else, so the config's defaults (and a task's
own defaults) apply to everything the user did not say. :func:`resolve_params` lays those
flags over a ``--config`` YAML file. :mod:`lstmkit.cli_train` builds a task's whole ``train``
command on these. Nothing here imports a task.
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import io
import os
import re
import shutil
import sys
import textwrap
import tokenize
import typing
import warnings
from pathlib import Path
from typing import Any, Callable, Literal, Optional

import typer

from lstmkit.config import TrainConfig, field_types, flag, load_yaml, split_train_params
from lstmkit.errors import LstmkitError, callers_level
from lstmkit.files import path_exists

__all__ = ["config_options", "field_help", "option_specs", "resolve_params", "OptionSpec", "ALIASES", "plain_help",
           "progress_option"]

ALIASES: dict[str, tuple[str, ...]] = {"max_epochs": ("--epochs",), "num_layers": ("--layers",),
                                       "relative": (" /--absolute",), "lowercase": (" /--keep-case",)}
_NONE = object()            # "none" on the command line: the value None, not "not given"
_HELP_WIDTH = 80                    # columns an option line of --help must fit in
_DEFAULT_OUT = Path("runs")         # --out when none is given (--resume refuses any other but the run's own folder)


@functools.cache
def field_help(cls: type) -> dict[str, str]:
    """Field name -> its trailing comment in the class source (comment-only lines indented past
    the field continue it)."""
    source = textwrap.dedent(inspect.getsource(cls))
    tree = ast.parse(source).body[0]
    body = [n for n in tree.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)]
    comments: dict[int, tuple[int, str]] = {}          # line -> (column, text)
    code_lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = (tok.start[1], tok.string.lstrip("#").strip())
        elif tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            code_lines.add(tok.start[0])
    helps = {}
    for node in body:
        parts = [comments[node.end_lineno][1]] if node.end_lineno in comments else []
        line = node.end_lineno + 1
        while parts and line in comments and line not in code_lines and comments[line][0] > node.col_offset:
            parts.append(comments[line][1])
            line += 1
        if parts:
            helps[node.target.id] = " ".join(parts)
    return helps


@dataclasses.dataclass(frozen=True)
class OptionSpec:
    """One generated option: the config key, where it goes (``""`` or ``"train"``), the click side."""

    name: str
    section: str
    parameter: inspect.Parameter


def option_specs(config_cls: type, own: dict[str, Any] | None = None,
                 other: tuple[str, dict[str, Any]] | None = None) -> list[OptionSpec]:
    """One :class:`OptionSpec` per field of ``config_cls`` and of its ``train`` block. ``own``: the
    task's defaults over the config's (flat keys: a classifier's ``TextClassifier._defaults``), the
    defaults its help shows; ``other`` = (a flag, its defaults): those that flag brings where they
    differ, shown beside them (``[default: 64; --series: 8]``)."""
    defaults, own = config_cls(), own or {}
    label, theirs = other or ("", {})

    def spec(cls: type, f: dataclasses.Field, config_default: Any, section: str) -> OptionSpec:
        default = own.get(f.name, config_default)
        also = (label, theirs[f.name]) if f.name in theirs and theirs[f.name] != default else None
        return _spec(cls, f, default, section, also)

    specs = [spec(config_cls, f, getattr(defaults, f.name), "")
             for f in dataclasses.fields(config_cls) if f.name != "train"]
    names = {s.name for s in specs}
    for f in dataclasses.fields(TrainConfig):
        if f.name in names:
            raise TypeError(f"{config_cls.__name__}.{f.name} shadows the train setting of the same name")
        specs.append(spec(TrainConfig, f, getattr(defaults.train, f.name), "train"))
    return specs


def _spec(cls: type, f: dataclasses.Field, default: Any, section: str,
          also: tuple[str, Any] | None = None) -> OptionSpec:
    tp = field_types(cls)[f.name]
    optional = type(None) in typing.get_args(tp)
    if optional:
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    if f.name not in field_help(cls):
        raise TypeError(f"{cls.__name__}.{f.name} has no comment: every config field needs its help")
    help_text = field_help(cls)[f.name]
    if tp is bool:
        decls = [f"{flag(f.name)}/--no-{f.name.replace('_', '-')}", *ALIASES.get(f.name, ())]
        def shown_bool(value: Any) -> str | None:
            return None if value is None else flag(f.name if value else f"no_{f.name}")[2:]
        shown = _beside(shown_bool(default), also and (also[0], shown_bool(also[1])))
        option = typer.Option(None, *decls, help=_with_default(help_text, shown), show_default=False)
        annotation: Any = Optional[bool]
    else:
        decls = [flag(f.name), *ALIASES.get(f.name, ())]
        parse, metavar = _parser(tp, optional)
        if len(f"  {', '.join(decls)} {metavar}") > _HELP_WIDTH:     # too long a list of choices: its
            metavar = f"<{f.name.replace('_', '-')}>"                # name, and the choices in the help
            choices = typing.get_args(tp)
            if not any(re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", help_text) for c in choices):
                help_text += f" ({' | '.join(choices)})"      # a comment that names some names the valid ones
        shown = _beside(_shown_default(tp, optional, default),
                        also and (also[0], _shown_default(tp, optional, also[1])))
        option = typer.Option(None, *decls, help=_with_default(help_text, shown), show_default=False,
                              parser=parse, metavar=metavar)
        annotation = Optional[Any]
    return OptionSpec(f.name, section, inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY,
                                                         default=option, annotation=annotation))


def _shown_default(tp: Any, optional: bool, default: Any) -> str | None:
    """The default as typed on the command line, or None where no value typed means the same (an
    unset field whose ``none`` is a value of its own, or an empty list): the help says what then."""
    if isinstance(default, list):
        return ",".join(map(str, default)) or None
    if default is None:
        return "none" if optional and not (typing.get_origin(tp) is Literal and "none" in typing.get_args(tp)) else None
    return str(default)


def _beside(shown: str | None, also: tuple[str, str | None] | None) -> str | None:
    """The default ``shown`` and another kind's (``also``: its flag and its default), ``64; --series: 8``."""
    if not also or also[1] is None or shown is None:
        return shown
    return f"{shown}; {also[0]}: {also[1]}"


def _with_default(help_text: str, shown: str | None) -> str:
    """``help_text`` with the default the way click shows one (``[default: 0.2]``)."""
    return help_text if shown is None else f"{help_text}  [default: {shown}]"


def _parser(tp: Any, optional: bool) -> tuple[Callable[[str], Any], str]:
    """The function that turns the option's text into the field's value, and its metavar in typer's
    style (``<int>``, ``<float,...>``, ``<int|none>``, ``<a|b|c>``), as typer shows its own options."""
    origin = typing.get_origin(tp)
    if origin is list:
        item, item_metavar = _scalar(typing.get_args(tp)[0])
        parse = _list_parser(item)
        metavar = f"{item_metavar},..."
    else:
        parse, metavar = _scalar(tp)
    if not optional or (origin is Literal and "none" in typing.get_args(tp)):
        return parse, f"<{metavar}>"  # "none" is one of its values (e.g. --scaler none), not "unset"
    return (lambda s: _NONE if s.strip().lower() == "none" else parse(s)), f"<{metavar}|none>"


def _list_parser(item: Callable[[str], Any]) -> Callable[[str], list[Any]]:
    """Comma-separated values, each read by ``item``; an empty text is the empty list (it clears a
    ``--config`` file's list). An empty item is refused: ``--quantiles 0.1,,0.9`` (a level typed
    as a second comma) trained on 0.1 and 0.9 alone, and ``--target sales,`` went on without a word."""
    def parse(s: str) -> list[Any]:
        parts = [v.strip() for v in s.split(",")]
        if parts == [""]:
            return []
        if "" in parts:
            raise typer.BadParameter(f"{s!r} has an empty item (two commas in a row, or one at an end): "
                                     "write one value between each two commas")
        return [item(v) for v in parts]
    return parse


def _scalar(tp: Any) -> tuple[Callable[[str], Any], str]:
    if typing.get_origin(tp) is Literal:
        return str, "|".join(map(str, typing.get_args(tp)))
    if tp is str:
        return str, "str"
    kind = {int: "an integer", float: "a number"}[tp]

    def parse(s: str):
        try:
            return tp(s)
        except ValueError:
            raise typer.BadParameter(f"{s!r} is not {kind}") from None
    return parse, tp.__name__


def _run_options() -> dict[str, tuple[Any, Any]]:
    """The options every task's ``train`` command shares: name -> (annotation, typer option)."""
    return {"config": (Optional[Path], typer.Option(None, help="YAML file with any of these settings, or a run "
                                                            "folder (the settings it recorded); flags win.")),
            "out": (Path, typer.Option(_DEFAULT_OUT, help="Folder that receives the run folder.")),
            "resume": (Optional[Path], typer.Option(None, help="Continue an interrupted run folder "
                                                                "(same data, same settings)."))}


def progress_option() -> Any:
    """``--progress`` of a command that uses a fitted run (predict, evaluate): this session's display,
    not the run's (a run trained under ``--progress off`` in a script showed no bar on a terminal)."""
    return typer.Option("auto", help="Progress on standard error: auto (a bar on a terminal, else a line every "
                                     "10 s), bar, log or off.")


def config_options(config_cls: type, run_options: bool = False, own: dict[str, Any] | None = None,
                   other: tuple[str, dict[str, Any]] | None = None
                   ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator for a typer command: add an option for every key of ``config_cls``.

    The decorated function takes its own options (``--data``, ...) as usual and a keyword
    ``flags``: the config keys given on the command line, as a nested dict. With ``run_options``
    (a ``train`` command) it also gets the shared ``--config FILE``, ``--out`` and ``--resume RUN``
    options as the keywords ``config``, ``out`` and ``resume``, which it declares without defaults.
    ``own`` and ``other``: the defaults the help shows (:func:`option_specs`)."""
    specs = option_specs(config_cls, own, other)

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        sig = inspect.signature(func)
        own = [p for name, p in sig.parameters.items() if name != "flags"]
        if run_options:
            shared = _run_options()
            missing = set(shared) - {p.name for p in own}
            if missing:
                raise TypeError(f"{func.__name__} must take the keywords {', '.join(sorted(missing))}")
            own = [p.replace(annotation=shared[p.name][0], default=shared[p.name][1]) if p.name in shared else p
                   for p in own]
        clash = {p.name for p in own} & {s.name for s in specs}
        if clash:
            raise TypeError(f"{func.__name__} declares config keys itself: {', '.join(sorted(clash))}")

        @functools.wraps(func)
        def command(**kwargs: Any) -> Any:
            flags: dict[str, Any] = {}
            for s in specs:
                value = kwargs.pop(s.name)
                if value is not None:
                    target = flags.setdefault(s.section, {}) if s.section else flags
                    target[s.name] = None if value is _NONE else value
            return func(**kwargs, flags=flags)

        hints = typing.get_type_hints(func)
        params = [p if run_options and p.name in shared else p.replace(annotation=hints.get(p.name, p.annotation))
                  for p in own]
        params += [s.parameter for s in specs]
        command.__signature__ = sig.replace(parameters=params)
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command
    return decorate


def resolve_params(config: Path | None, flags: dict[str, Any]) -> dict[str, Any]:
    """The ``--config`` YAML file (if any) with the command-line ``flags`` laid over it, key by
    key (``train:`` too); values None given on the command line replace the file's."""
    params, train = split_train_params(load_yaml(config) if config is not None else {})
    if train:                   # trainer keys written at the top level of the file join its train: block
        params["train"] = train
    for key, value in flags.items():
        if key == "train":
            base = params.get("train") if isinstance(params.get("train"), dict) else {}
            params["train"] = {**base, **value}
        else:
            params[key] = value
    return params


def config_file_path(value: Any, config: Path | None, key: str = "data") -> str:
    """A data file's path as a ``--config`` YAML file gives it (``data: sales.csv``): ``~`` expanded,
    since no shell reads the file ('file not found: ~/sales.csv' said the shell expands it only
    outside quotes), and a relative one read beside the file, as the file's author wrote it, from
    whatever folder the command runs in (``cfg.yaml`` naming ``sales.csv`` beside it said 'file not
    found' unless the command ran in that folder; a ``sales.csv`` in the working folder, another
    file, was read instead without a word). One not found beside the file but found from the
    working folder (a file written for the folder it is run from) is read there; when both exist
    and differ, a warning says which is read. ``key``: the file's key, named when ``value`` is no path."""
    if config is not None and (isinstance(value, (list, dict, bool)) or value is None):
        raise LstmkitError(f"'{key}:' in {config} must be one file's path, got {value!r}"[:200],
                           f"write one path: '{key}: sales.csv'")
    text = os.path.expanduser(str(value))
    if config is None or os.path.isabs(text):
        return text
    beside = Path(config).parent / text
    if not path_exists(beside):
        return text                     # from the working folder: found there, or its 'not found'
    if path_exists(text) and not os.path.samefile(text, beside):
        warnings.warn(f"{config} names {text!r}: read beside it ({beside}), not the {text} in the working "
                      "folder, as a settings file's relative paths are read beside the file",
                      stacklevel=callers_level())
    return str(beside)


@functools.cache
def _fitted_help_context(context_class: type) -> type:
    """``context_class`` (the click Context of the click typer runs on: typer 0.29 brings its own)
    laying ``--help`` out to a terminal narrower than 80 columns (``COLUMNS=40``, a split pane, a
    phone's SSH client). click laid help out 50 columns wide at the least, its help texts in a column
    from column 32: at 40 columns 515 of the 553 lines of ``forecast train --help`` were wider than
    the terminal, each wrapped into the next, 8 to 16 characters of help a line. Here the width is
    the terminal's (20 at the least) and the options' column narrows with it; at 80 columns and
    wider the layout is click's own."""
    base = context_class.formatter_class
    forced = sys.modules[base.__module__]            # its FORCED_WIDTH: click's tests' fixed width

    class FittedHelp(base):
        def __init__(self, indent_increment: int = 2, width: int | None = None,
                     max_width: int | None = None) -> None:
            if width is None and getattr(forced, "FORCED_WIDTH", None) is None:
                width = max(min(shutil.get_terminal_size().columns, max_width or 80) - 2, 20)
            super().__init__(indent_increment, width, max_width)

        def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
            super().write_dl(rows, min(col_max, max(10, self.width * col_max // 78)), col_spacing)

    return type("FittedHelpContext", (context_class,), {"formatter_class": FittedHelp})


def plain_help(command: Any) -> Any:
    """``command`` (a click command built by typer) and every command under it, set to print
    ``--help`` and usage errors in click's plain layout instead of typer's rich panels. A rich
    options table gives every column the width of its longest entry (``--no-relative,--absolute``,
    ``[lstm|gru|bilstm|...]``), so with 40 options the help text was left an 18-character column at
    80 terminal columns (443 lines for ``forecast train``) and 31 at 120; the plain layout keeps
    the help at column 30 (194 lines). Help texts are then also printed literally: a default
    written ``[as trained]`` is no rich style tag to vanish."""
    command.rich_markup_mode = None
    command.context_class = _fitted_help_context(type(command).context_class)
    for sub in (getattr(command, "commands", None) or {}).values():
        if not sub.short_help and sub.help:      # a group lists each command's first paragraph, wrapped,
            sub.short_help = " ".join(sub.help.split("\n\n")[0].split())   # not cut to a line with "..."
        plain_help(sub)
    return command
