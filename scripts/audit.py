"""`make audit`: pip-audit over the image's locked dependencies; fails when any package went unaudited."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "docker" / "requirements-serve.txt"
UNREACHABLE = re.compile(r"(ConnectionError|Max retries|timed out|Name or service not known|Connection refused)", re.I)


def locked_packages(lock: Path) -> list[str]:
    """The `name==version` lines of a lock file, comments and blanks left out."""
    lines = (line.split("#", 1)[0].strip() for line in lock.read_text().splitlines())
    return [line for line in lines if line]


def run_pip_audit(lock: Path, report: Path) -> subprocess.CompletedProcess[str]:
    """pip-audit with PyPI's vulnerability data, pinned versions only, a JSON report."""
    command = [sys.executable, "-m", "pip_audit", "--requirement", str(lock), "--vulnerability-service", "pypi"]
    command += ["--no-deps", "--disable-pip", "--desc", "--format", "json", "--output", str(report)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def vulnerability_lines(dependencies: list[dict]) -> list[str]:
    """One line per known vulnerability: package, version, id, fixed versions."""
    lines = []
    for dep in dependencies:
        for vuln in dep.get("vulns") or []:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "-"
            lines.append(f"{dep['name']} {dep.get('version', '?')}: {vuln['id']} (fixed in {fixed})")
    return lines


def summarise(report: dict, locked: int) -> tuple[int, list[str]]:
    """Exit code and lines: 1 when a vulnerability is known or fewer packages were audited than are locked."""
    dependencies = report.get("dependencies", [])
    skipped = [dep for dep in dependencies if dep.get("skip_reason")]
    audited = len(dependencies) - len(skipped)
    found = vulnerability_lines(dependencies)
    lines = [*found, f"audited {audited} of {locked} locked packages; {len(found)} known vulnerabilities"]
    if audited < locked:
        reason = skipped[0]["skip_reason"] if skipped else "pip-audit listed fewer packages than the lock file"
        lines.append(
            f"error: {locked - audited} of {locked} locked packages were NOT audited, so 'no vulnerabilities' "
            f"means nothing here; first reason: {reason}"
        )
    return (1 if found or audited < locked else 0), lines


def main(lock: Path = LOCK) -> int:
    """Runs the audit and prints its verdict; exit 0 only when every locked package was audited clean."""
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "audit.json"
        result = run_pip_audit(lock, report_path)
        if not report_path.is_file():
            detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
            if UNREACHABLE.search(result.stderr):
                print(f"error: the vulnerability service (PyPI) could not be reached: {detail}", file=sys.stderr)
            else:
                print(f"error: pip-audit failed (exit {result.returncode}): {detail}", file=sys.stderr)
            return 1
        report = json.loads(report_path.read_text())
    code, lines = summarise(report, len(locked_packages(lock)))
    for line in lines:
        print(line, file=sys.stderr if line.startswith("error:") else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else LOCK))
