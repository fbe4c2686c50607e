"""The docs: the site builds with mkdocs in strict mode without a warning, every page is in its navigation, and the
README stays a short front door whose links lead somewhere."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from tests.conftest import ROOT

LINK = re.compile(r"\]\(([^)#\s]+)(#[^)]*)?\)")


def test_the_site_builds_in_strict_mode_without_a_warning(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's notice about its own future, not about these docs
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    assert "WARNING" not in built.stderr, built.stderr[-3000:]
    for page in ("index.html", "quickstart/index.html", "api/index.html", "reports/loo/index.html"):
        assert (tmp_path / "site" / page).is_file(), page


def nav_pages(nav: list) -> set[str]:
    found: set[str] = set()
    for item in nav:
        for value in item.values() if isinstance(item, dict) else [item]:
            found |= nav_pages(value) if isinstance(value, list) else {value}
    return found


def test_every_page_is_in_the_navigation() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    pages = {str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").glob("*.md")}
    assert pages <= nav_pages(config["nav"])


def test_the_readme_is_a_short_front_door_and_its_links_lead_somewhere() -> None:
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    for target, _ in LINK.findall(text):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), f"README links to {target}, which does not exist"
    for page in ("quickstart", "api", "client", "settings", "training", "model", "operations", "performance", "inside"):
        assert f"](docs/{page}.md)" in text


def test_the_docs_speak_to_users_not_about_the_projects_history() -> None:
    for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        text = path.read_text().lower()
        for phrase in ("issue ", "done when", "the seed's", "sandbox engine", "that day's rules"):
            assert phrase not in text, f"{path.name} says {phrase!r}"


def test_the_docs_name_the_commands_and_choices_a_user_meets() -> None:
    """Every console script the client installs, every cell the trainer offers, and what make train installs."""
    text = " ".join((ROOT / "docs" / p).read_text() for p in ("client.md", "training.md", "quickstart.md"))
    scripts = tomllib.loads((ROOT / "client" / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts and all(f"`{name} forecast" in text for name in scripts)
    from training.core.config import CELLS

    assert all(f"--cell {cell}" in text for cell in CELLS if cell != "lstm")
    makefile = (ROOT / "Makefile").read_text()
    train_help = makefile.split("## train:", 1)[1].split("\n", 1)[0]
    assert "torch" in train_help and "minutes" in train_help
