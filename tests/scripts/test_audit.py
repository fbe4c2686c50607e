"""`make audit` must fail when it audited nothing, or fewer packages than the lock file holds."""

from __future__ import annotations

import subprocess
from pathlib import Path

from scripts.audit import locked_packages, summarise
from tests.conftest import ROOT


def dependency(name: str, vulns: list[dict] | None = None) -> dict:
    return {"name": name, "version": "1.0", "vulns": vulns or [], "fixes": []}


def skipped(name: str) -> dict:
    return {"name": name, "skip_reason": f"Dependency not found on PyPI and could not be audited: {name} (1.0)"}


def test_a_report_that_skipped_everything_fails_and_says_so() -> None:
    code, lines = summarise({"dependencies": [skipped("fastapi"), skipped("uvicorn")]}, locked=2)
    assert code == 1
    assert lines[0] == "audited 0 of 2 locked packages; 0 known vulnerabilities"
    assert lines[1].startswith("error: 2 of 2 locked packages were NOT audited")
    assert "fastapi (1.0)" in lines[1]


def test_a_partial_audit_fails() -> None:
    code, _ = summarise({"dependencies": [dependency("fastapi"), skipped("uvicorn")]}, locked=2)
    assert code == 1


def test_a_complete_clean_audit_passes_and_a_vulnerability_fails() -> None:
    assert summarise({"dependencies": [dependency("fastapi")]}, locked=1) == (
        0,
        ["audited 1 of 1 locked packages; 0 known vulnerabilities"],
    )
    vuln = {"id": "PYSEC-2024-1", "fix_versions": ["1.1"]}
    code, lines = summarise({"dependencies": [dependency("fastapi", [vuln])]}, locked=1)
    assert code == 1 and lines[0] == "fastapi 1.0: PYSEC-2024-1 (fixed in 1.1)"


def test_the_lock_file_is_read_without_comments() -> None:
    packages = locked_packages(ROOT / "docker" / "requirements-serve.txt")
    assert packages and all("==" in p and not p.startswith("#") for p in packages)


def test_the_real_command_fails_on_a_package_it_cannot_audit(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("# a lock file\nlstm-forecast-no-such-package==0.0.1\n")
    result = subprocess.run(
        ["bash", "scripts/audit.sh", str(lock)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "audited 0 of 1 locked packages" in output or "could not be reached" in output
    assert "No known vulnerabilities found" not in result.stdout
