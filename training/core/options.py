"""Command-line options generated from config dataclass fields: each default and help text written once."""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from training.core.data import parse_extras
from training.core.errors import DataError

T = TypeVar("T")
Parse = Callable[[str], Any]
_UNSET = object()


def option(
    default: Any = _UNSET,
    help: str = "",
    *,
    factory: Callable[[], Any] | None = None,
    parse: Parse | None = None,
    flag: str | None = None,
    choices: tuple[str, ...] | None = None,
    shown: str | None = None,
    metavar: str | None = None,
    repeat: bool = False,
) -> Any:
    """A dataclass field that is also a command-line option.

    `parse` turns the text into the value (default: the field's type); `flag` replaces `--field-name`; `shown`
    replaces the default in the help; `repeat` collects every use (a list, or a dict of one-item dicts merged).
    A bool field is a switch: `--name` when False by default, `--no-name` when True; its help says what it does.
    """
    if default is _UNSET and factory is None:
        raise TypeError("an option needs a default or a factory")
    meta: dict[str, Any] = {"help": help, "parse": parse, "flag": flag, "choices": choices, "shown": shown}
    meta |= {"metavar": metavar, "repeat": repeat}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata={"cli": meta})
    return dataclasses.field(default=default, metadata={"cli": meta})


def named_paths(help: str, parse: Parse, flag: str, shown: str) -> Any:
    """A repeatable NAME=PATH option, every use merged into one dict."""
    return option(help=help, factory=dict, parse=parse, flag=flag, metavar="NAME=PATH", repeat=True, shown=shown)


def positive_int(text: str) -> int:
    """An integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def unit_float(text: str) -> float:
    """A float in [0, 1)."""
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {value}")
    return value


def default_of(field: dataclasses.Field[Any]) -> Any:
    """A field's default value, calling its factory."""
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


def value_type(cls: type, field: dataclasses.Field[Any]) -> Any:
    """The field's annotation with `| None` removed."""
    hint = typing.get_type_hints(cls)[field.name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if type(None) in typing.get_args(hint) and len(args) == 1 else hint


def help_text(meta: dict[str, Any], default: Any, switch: bool) -> str:
    """The help with its default appended (switches have none), escaped for argparse's % formatting."""
    text = meta["help"]
    if not switch:
        text += f" (default {default})" if meta["shown"] is None else f" (default: {meta['shown']})"
    return text.replace("%", "%%")


def add_field(parser: argparse.ArgumentParser, cls: type, field: dataclasses.Field[Any], dest: str) -> None:
    """One option for one field."""
    meta, default = field.metadata["cli"], default_of(field)
    kind = value_type(cls, field)
    switch = kind is bool
    name = meta["flag"] or "--" + ("no-" if switch and default else "") + field.name.replace("_", "-")
    # SUPPRESS: an option not given leaves no attribute, so the dataclass keeps its own default.
    kwargs: dict[str, Any] = {"dest": dest, "help": help_text(meta, default, switch), "default": argparse.SUPPRESS}
    if switch:
        kwargs["action"] = "store_false" if default else "store_true"
    else:
        # a repeated list option parses each use as one item
        item = typing.get_args(kind)[0] if meta["repeat"] and typing.get_origin(kind) is list else kind
        kwargs["type"] = meta["parse"] or item
        # argparse would name the value after the dotted dest; name it after the flag, as hand-written options do
        kwargs["metavar"] = meta["metavar"] or name.removeprefix("--").replace("-", "_").upper()
        if meta["choices"] is not None:
            kwargs |= {"choices": meta["choices"], "metavar": None}
        if meta["repeat"]:
            kwargs["action"] = "append"
    parser.add_argument(name, **kwargs)


def add_options(parser: argparse.ArgumentParser, cls: type, prefix: str = "") -> None:
    """Options for every CLI field of a dataclass, nested dataclass fields included (flat flags)."""
    for field in dataclasses.fields(cls):
        kind = typing.get_type_hints(cls)[field.name]
        if dataclasses.is_dataclass(kind):
            add_options(parser, typing.cast(type, kind), f"{prefix}{field.name}.")
        elif "cli" in field.metadata:
            add_field(parser, cls, field, prefix + field.name)


def collected(values: list[Any], default: Any) -> Any:
    """A repeated option's uses: dicts merged in order, anything else listed."""
    if isinstance(default, dict):
        merged: dict[Any, Any] = {}
        for value in values:
            merged |= value
        return merged
    return list(values)


def from_args(cls: type[T], args: argparse.Namespace, prefix: str = "") -> T:
    """A dataclass from parsed options; a field given no option keeps its default."""
    given = vars(args)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(typing.cast(Any, cls)):
        kind = typing.get_type_hints(cls)[field.name]
        if dataclasses.is_dataclass(kind):
            values[field.name] = from_args(typing.cast(type, kind), args, f"{prefix}{field.name}.")
        elif prefix + field.name in given:
            value = given[prefix + field.name]
            repeat = field.metadata.get("cli", {}).get("repeat")
            values[field.name] = collected(value, default_of(field)) if repeat else value
    return cls(**values)


def horizon_days(text: str) -> int:
    """An integer in 1..10."""
    value = int(text)
    if not 1 <= value <= 10:
        raise argparse.ArgumentTypeError(f"must be 1..10 trading days, got {value}")
    return value


def quantile_list(text: str) -> tuple[float, ...]:
    """'0.1,0.9' -> (0.1, 0.5, 0.9), sorted, each in (0, 1)."""
    try:
        levels = {round(float(v), 6) for v in text.split(",") if v.strip()} | {0.5}
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if not all(0 < q < 1 for q in levels):
        raise argparse.ArgumentTypeError(f"quantile levels must lie strictly between 0 and 1: {text!r}")
    return tuple(sorted(levels))


def extra_series(text: str) -> dict[str, Path]:
    """'nasdaq=path' -> {'nasdaq': Path('path')}."""
    try:
        return parse_extras([text])
    except (ValueError, DataError) as exc:  # argparse turns only its own errors into a one-line exit 2
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--extra ")) from None


def named_path(text: str) -> dict[str, Path]:
    """'NAME=PATH' -> {NAME: Path(PATH)}, split at the last '=' (a name may hold spaces and any other sign)."""
    name, sep, path = text.rpartition("=")
    if not sep or not name.strip() or not path:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=PATH")
    return {name.strip(): Path(path)}


def duration(text: str) -> float:
    """'90s', '30m', '24h' or '7d' -> seconds; a bare number is refused (24 meant 24h?)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    if text[-1:] not in units:
        raise argparse.ArgumentTypeError(f"{text!r} has no unit; write it with one, e.g. 24h, 30m, 1d or 90s")
    try:
        value = float(text[:-1]) * units[text[-1]]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90s, 30m, 24h, 7d)") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive duration, got {text!r}")
    return value


@dataclass(frozen=True)
class Command:
    """One subcommand: its config dataclass, what runs it, and its help."""

    config: type
    run: Callable[[Any], int]
    help: str
    description: str
