"""`python -m service`'s command line and settings errors: flags over the environment, one line per problem."""

from __future__ import annotations

import argparse
import difflib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt
from dotenv import dotenv_values
from pydantic import ValidationError

from service.config import Settings

PREFIX = "FORECAST_"
FLAGS = ("host", "port", "workers", "model_dir")  # the usual ones; every setting stays an environment variable
# FORECAST_* variables that other programs of the project read (docker compose, the client), not the service.
NOT_SETTINGS = {"FORECAST_PUBLISH_PORT", "FORECAST_LB_PORT", "FORECAST_URL"}
ENV_FILE = Path(".env")  # what Settings reads besides the environment (its model_config's env_file)
ALLOWED = {  # where the type alone says too little
    "workers": "an integer from 1 to 256, or 'auto'",
    "cors_origins": "origins separated by commas, or a JSON list of them",
    "admin_token": "any text",
    "outcomes_token": "any text",
    "store": "a file path, or a postgresql:// URL",
}


class SettingsProblem(Exception):
    """Bad settings: one line per bad variable or flag."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def env_name(field: str) -> str:
    return PREFIX + field.upper()


def flag_name(field: str) -> str:
    return "--" + field.replace("_", "-")


def parser() -> argparse.ArgumentParser:
    """--help and the usual flags, each defaulting to its environment variable, then to the built-in default."""
    found = argparse.ArgumentParser(
        prog="python -m service",
        description="Serve next-day forecasts of the registry's current model over HTTP. Every setting is a "
        f"{PREFIX}* environment variable (docs/settings.md lists them all); these flags override "
        "theirs.",
    )
    for field in FLAGS:
        info = Settings.model_fields[field]
        found.add_argument(
            flag_name(field),
            dest=field,
            metavar=field.upper(),
            default=argparse.SUPPRESS,
            help=f"{info.description} (default: ${env_name(field)}, else {info.default})",
        )
    return found


def sources(argv: Sequence[str] | None, fields: Sequence[str] = ("host", "port")) -> dict[str, str]:
    """Where each field's value came from, to name in a message: its flag when given, else its variable."""
    given = vars(parser().parse_args(argv))
    return {field: flag_name(field) if field in given else env_name(field) for field in fields}


def settings_from(argv: Sequence[str] | None = None) -> Settings:
    """The settings from the flags, then the environment; SettingsProblem lists every bad one."""
    given = vars(parser().parse_args(argv))  # exits 2 on an unknown flag, 0 on --help
    try:
        return Settings(**given)
    except ValidationError as exc:
        raise SettingsProblem(problem_lines(exc, given)) from None


def problem_lines(exc: ValidationError, flags: Mapping[str, Any]) -> list[str]:
    """One line per bad setting: where it came from, the value, what is wrong and what is allowed."""
    by_field: dict[str, list[Any]] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        by_field.setdefault(field, []).append(error)
    lines = []
    for field, errors in by_field.items():
        messages = " or ".join(dict.fromkeys(e["msg"].removeprefix("Value error, ") for e in errors))
        if not field:  # a rule across fields: its message names them
            lines.append(f"invalid settings: {messages}")
            continue
        source = flag_name(field) if field in flags else env_name(field)
        lines.append(f"{source}={errors[0]['input']!r}: {messages}; allowed: {allowed(field)}")
    return lines


def allowed(field: str) -> str:
    """What a field takes, in words: 'an integer (>= 0, <= 65535)', "one of 'auto', 'cpu', 'cuda'", ..."""
    if field in ALLOWED:
        return ALLOWED[field]
    info = Settings.model_fields[field]
    kinds = [describe_type(t) for t in (get_args(info.annotation) or (info.annotation,)) if t is not type(None)]
    if get_origin(info.annotation) is Literal:
        kinds = [describe_type(info.annotation)]
    bounds = []
    for rule in info.metadata:
        for kind, attribute, word in ((Ge, "ge", ">="), (Gt, "gt", ">"), (Le, "le", "<="), (Lt, "lt", "<")):
            if isinstance(rule, kind):
                bounds.append(f"{word} {getattr(rule, attribute)}")
    return " or ".join(kinds) + (f" ({', '.join(bounds)})" if bounds else "")


def describe_type(kind: Any) -> str:
    if get_origin(kind) is Literal:
        return "one of " + ", ".join(repr(v) for v in get_args(kind))
    names = {int: "an integer", float: "a number", bool: "true or false", str: "text"}
    return names.get(kind, getattr(kind, "__name__", str(kind)))


def unknown_variables(environ: Mapping[str, str] | None = None, env_file: Path = ENV_FILE) -> list[str]:
    """One warning per FORECAST_* variable the service does not read, in the environment or in .env, with the
    closest name it does read."""
    found = {name: "" for name in (environ if environ is not None else os.environ)}
    if env_file.is_file():
        found |= {name: f" (in {env_file})" for name in dotenv_values(env_file) if name not in found}
    fields = sorted(Settings.model_fields)
    warnings = []
    for name, where in sorted(found.items()):
        if not name.startswith(PREFIX) or name.removeprefix(PREFIX).lower() in fields or name in NOT_SETTINGS:
            continue
        close = difflib.get_close_matches(name.removeprefix(PREFIX).lower(), fields, n=1, cutoff=0.7)
        hint = f"; did you mean {env_name(close[0])}?" if close else "; docs/settings.md lists them all"
        warnings.append(f"{name}{where} is not a setting of the service and is ignored{hint}")
    return warnings
