"""The CLI is generated from the config dataclasses: every field is a flag, every default comes from the field."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest

from training.__main__ import COMMANDS, build_parser
from training.core import options
from training.core.options import option


def cli_fields(cls: type, prefix: str = "") -> list[tuple[str, dataclasses.Field]]:
    found = []
    for field in dataclasses.fields(cls):
        if dataclasses.is_dataclass(field.default_factory):
            found += cli_fields(field.default_factory, f"{prefix}{field.name}.")
        elif "cli" in field.metadata:
            found.append((prefix + field.name, field))
    return found


def subparser(name: str):
    return build_parser()._subparsers._group_actions[0].choices[name]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_config_field_is_an_option_with_its_help(name: str) -> None:
    dests = {a.dest: a for a in subparser(name)._actions}
    fields = cli_fields(COMMANDS[name].config)
    flat = ("install-default", "window-limit", "family-reader")  # one option each; the others nest the training config
    assert len(fields) >= (1 if name in flat else 8)
    for dest, field in fields:
        assert dest in dests, f"{name}: {dest} has no option"
        assert dests[dest].help and field.metadata["cli"]["help"] in dests[dest].help.replace("%%", "%")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_no_options_gives_the_dataclass_defaults(name: str) -> None:
    args = build_parser().parse_args([name])
    assert options.from_args(COMMANDS[name].config, args) == COMMANDS[name].config()


@dataclass
class Inner:
    size: int = option(3, "size", parse=options.positive_int)


@dataclass
class Outer:
    inner: Inner = dataclasses.field(default_factory=Inner)
    name: str | None = option(None, "a name", shown="none")
    tags: list[str] = option(help="tags; repeatable", factory=list, repeat=True, flag="--tag")
    pairs: dict[str, int] = option(
        help="k=v", factory=dict, repeat=True, parse=lambda t: {t.split("=")[0]: int(t.split("=")[1])}
    )
    fast: bool = option(False, "go fast")
    check: bool = option(True, "skip the check (100% safe)")
    out: Path = option(Path("x"), "where")


def parse(*argv: str) -> Outer:
    import argparse

    parser = argparse.ArgumentParser()
    options.add_options(parser, Outer)
    return options.from_args(Outer, parser.parse_args(argv))


def test_generated_options_parse_every_kind_of_field() -> None:
    assert parse() == Outer()
    got = parse("--size", "7", "--name", "n", "--tag", "a", "--tag", "b", "--pairs", "a=1", "--pairs", "b=2")
    assert got.inner.size == 7 and got.name == "n" and got.tags == ["a", "b"] and got.pairs == {"a": 1, "b": 2}
    got = parse("--fast", "--no-check", "--out", "y")
    assert (got.fast, got.check, got.out) == (True, False, Path("y"))


def test_a_bad_value_is_refused_by_the_fields_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse("--size", "0")
    assert exit_info.value.code == 2
    assert "must be at least 1, got 0" in capsys.readouterr().err


def test_an_option_needs_a_default() -> None:
    with pytest.raises(TypeError, match="needs a default"):
        option(help="nothing")


def test_a_named_path_is_a_name_of_any_signs_then_a_path() -> None:
    assert options.named_path("pooled table only (no window's own table)=/tmp/old run/loo.json") == {
        "pooled table only (no window's own table)": Path("/tmp/old run/loo.json")
    }
    assert options.named_path(" default =reports/loo.json") == {"default": Path("reports/loo.json")}
    for bad in ("reports/loo.json", "=reports/loo.json", "default="):
        with pytest.raises(Exception, match="expected NAME=PATH"):
            options.named_path(bad)
