"""Every curl and Python example of the README and the docs pages runs against the real server and answers as
documented."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, train_tiny
from tests.live_server import running_service

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
VERSION = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{8}(-\d+)?$")
DOCUMENTED_ADDRESSES = ("http://127.0.0.1:8000", "http://localhost:8000", "127.0.0.1:8000", "localhost:8000")


PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]  # reports/ hold results, not examples
VOLATILE = ("id", "created_at", "forecast_id", "forecast_ids")  # made afresh for each answer


@dataclass(frozen=True)
class Example:
    """One runnable example: its page, its language, its code and the answer the page shows for it (if any)."""

    page: str
    language: str
    code: str
    answer: object = None


def documented_answer(comments: list[str]) -> object:
    """The JSON that the comment lines right after a command show, or None."""
    text = ""
    for line in comments:
        text += line.removeprefix("#").strip()
        try:
            return json.loads(text)
        except ValueError:
            continue
    return None


def curl_examples(page: str, block: str) -> Iterator[Example]:
    """Each `curl` command of a shell block (with its continuation lines) and its documented answer."""
    lines = block.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("curl "):
            continue
        end = i
        while lines[end].endswith("\\"):
            end += 1
        comments = []
        for following in lines[end + 1 :]:
            if not following.startswith("#"):
                break
            comments.append(following)
        yield Example(page, "sh", "\n".join(lines[i : end + 1]), documented_answer(comments))


def page_examples() -> list[Example]:
    """Every page's curl commands and Python blocks, in order."""
    found: list[Example] = []
    for path in PAGES:
        for language, block in FENCE.findall(path.read_text()):
            if language == "sh":
                found += curl_examples(path.name, block)
            elif language == "python":
                found.append(Example(path.name, "python", block))
    return found


def pointed_at(code: str, base: str) -> str:
    """The example with the page's address replaced by the test server's."""
    for address in DOCUMENTED_ADDRESSES:
        target = base if address.startswith("http") else base.removeprefix("http://")
        code = code.replace(address, target)
    return code


def run_example(example: Example, base: str) -> str:
    """Runs one example; it must exit 0. Returns what it printed."""
    command = ["bash", "-c", pointed_at(example.code, base)]
    if example.language == "python":
        command = [sys.executable, "-c", pointed_at(example.code, base)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, f"example failed:\n{example.code}\n{result.stderr[-2000:]}"
    return result.stdout


def shape(value: object) -> object:
    """Keys all the way down (lists by their first item): what must match when the numbers cannot."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__ if not isinstance(value, int | float) else "number"


def without_volatile(value: object) -> object:
    """The answer without what is made afresh for each one (ids, creation times)."""
    if isinstance(value, dict):
        return {k: without_volatile(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [without_volatile(v) for v in value]
    return value


def check_answer(example: Example, printed: str) -> None:
    """Errors must read exactly as documented; forecasts must have the documented shape and version format."""
    answer = json.loads(printed)
    if isinstance(example.answer, dict) and example.answer.get("error"):  # not the time-series API's "error": null
        assert answer == example.answer
    elif example.answer is not None:
        assert shape(answer) == shape(example.answer)
        if "model_version" in example.answer:  # type: ignore[operator]
            assert VERSION.match(answer["model_version"]) and VERSION.match(example.answer["model_version"])


EXAMPLES = page_examples()


def test_the_pages_have_examples_of_each_kind() -> None:
    assert sum(e.language == "sh" for e in EXAMPLES) >= 5
    assert sum(e.language == "python" for e in EXAMPLES) >= 3
    assert all(e.answer is not None for e in EXAMPLES if e.language == "sh")
    assert {e.page for e in EXAMPLES} >= {"README.md", "quickstart.md", "api.md", "client.md"}


@pytest.fixture(scope="module")
def server(model_pair: tuple[Path, str, str]) -> Iterator[str]:
    registry, _, _ = model_pair
    with running_service(registry) as (base, _):
        yield base


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e.page}-{e.language}-{i}" for i, e in enumerate(EXAMPLES)])
def test_every_example_runs_as_documented(example: Example, server: str) -> None:
    printed = run_example(example, server)
    if example.language == "sh":
        check_answer(example, printed)
    else:
        assert printed.strip()


@pytest.fixture(scope="module")
def bundled_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from training.publish.bundled import install_default

    registry = tmp_path_factory.mktemp("bundled") / "models"
    install_default(registry)  # what make serve serves on a fresh clone
    with running_service(registry) as (base, _):
        yield base


@pytest.mark.parametrize(
    "example", [e for e in EXAMPLES if e.language == "sh"], ids=lambda e: f"{e.page}:{e.code[:40]}"
)
def test_documented_answers_are_the_bundled_models_to_the_digit(example: Example, bundled_server: str) -> None:
    assert without_volatile(json.loads(run_example(example, bundled_server))) == without_volatile(example.answer)


def test_the_model_directory_table_lists_every_file_a_version_has(tmp_path: Path, sp500_small: Path) -> None:
    version = train_tiny(tmp_path, sp500_small)
    page = (ROOT / "docs" / "training.md").read_text()
    table = page.split("writes a new version directory", 1)[1].split("\n\n", 2)[1]
    documented = set(re.findall(r"^\| `([^`]+)` \|", table, re.M))
    assert documented == {p.name for p in (tmp_path / version).iterdir()}


def test_make_serve_says_what_it_installs_before_installing() -> None:
    dry = subprocess.run(
        ["make", "--dry-run", "--always-make", "serve", "VENV=/nonexistent-venv"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = dry.stdout.splitlines()
    said = next(i for i, line in enumerate(lines) if "Installing what the service and its client need" in line)
    assert said < next(i for i, line in enumerate(lines) if "pip install" in line)
