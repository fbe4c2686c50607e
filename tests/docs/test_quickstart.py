"""The README's quick start, in order, on a fresh copy of the repository: `make serve` (its own venv, the bundled
model), then the curl example, the Python client example and the client's command, each answering as documented."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.docs.test_examples import FENCE, Example, page_examples, pointed_at, without_volatile
from tests.live_server import free_port

pytestmark = pytest.mark.serial  # times make serve: run alone, with no test beside it on the CPUs
FIRST_ANSWER_S = 30  # make serve on a fresh clone answers within this here


def fresh_copy(dest: Path) -> Path:
    """What a clone holds: the files git tracks, and those it would (untracked, not ignored), links kept as links."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source, target = ROOT / name, dest / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree, not yet committed
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    return dest


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, float]]:
    """`make serve` in a fresh copy: (the copy, its base URL, seconds from make serve to the first forecast)."""
    clone = fresh_copy(tmp_path_factory.mktemp("clone") / "lstm-forecast")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORECAST_", "VIRTUAL_ENV"))}
    env["FORECAST_PORT"] = str(port)  # and make's own PYTHON: python3, as on a user's machine
    log = (clone / "serve.log").open("w")
    started = time.monotonic()
    make = subprocess.Popen(
        ["make", "serve"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base, window = f"http://127.0.0.1:{port}", json.dumps({"window": [100.0 + i for i in range(60)]})
    try:
        answered = None
        while answered is None and time.monotonic() - started < 120 and make.poll() is None:
            try:
                if httpx.post(
                    f"{base}/predict", content=window, headers={"content-type": "application/json"}
                ).is_success:
                    answered = time.monotonic() - started
            except httpx.TransportError:
                time.sleep(0.2)
        assert answered is not None, (clone / "serve.log").read_text()[-3000:]
        yield clone, base, answered
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=60)
        log.close()


def readme() -> list[Example]:
    return [e for e in page_examples() if e.page == "README.md"]


def test_make_serve_answers_within_half_a_minute(served: tuple[Path, str, float]) -> None:
    assert served[2] < FIRST_ANSWER_S, f"the first forecast came {served[2]:.1f} s after make serve"


def test_the_curl_example_answers_as_the_readme_shows(served: tuple[Path, str, float]) -> None:
    clone, base, _ = served
    (curl,) = [e for e in readme() if e.language == "sh"]
    printed = subprocess.run(["bash", "-c", pointed_at(curl.code, base)], cwd=clone, capture_output=True, text=True)
    assert without_volatile(json.loads(printed.stdout)) == without_volatile(curl.answer)


def test_the_client_example_runs_from_the_serving_venv(served: tuple[Path, str, float]) -> None:
    clone, base, _ = served
    (example,) = [e for e in readme() if e.language == "python"]
    python = clone / ".venv" / "bin" / "python"
    done = subprocess.run(
        [str(python), "-c", pointed_at(example.code, base)], cwd=clone, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[0].replace(".", "", 1).isdigit()  # the forecast, printed


def test_the_client_command_prints_what_the_readme_shows(served: tuple[Path, str, float]) -> None:
    clone, base, _ = served
    blocks = [b for lang, b in FENCE.findall((ROOT / "README.md").read_text()) if lang == "text" and "-m client" in b]
    command, *expected = blocks[0].strip().splitlines()
    argv = command.removeprefix("$ ").split("#")[0].split()
    env = {**os.environ, "FORECAST_URL": base}
    done = subprocess.run(argv, cwd=clone, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == expected
