"""Tests mirror the code: every module with logic of its own has tests/<package>/<folders>/test_<module>.py, or is
listed here with the reason it has none. A newcomer finds the test for X by its path."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("service", "training", "client")

# Modules with functions but no test file of their own, each with where its behaviour is tested instead.
WITHOUT_OWN_TEST = {
    "training.core.errors": "exception classes; each is raised and turned into one line in tests/training/test_main.py",
    "client.errors": "exception classes; each is raised and checked in tests/client/test_api.py",
}


def has_logic(path: Path) -> bool:
    """A module defines a function or a method: declarations alone (TypedDicts, constants) need no test file."""
    return any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) for n in ast.walk(ast.parse(path.read_text())))


def mirror_of(module: Path) -> Path:
    """Where a module's tests live: the same folders under tests/, test_<name>.py (__main__.py: test_main.py)."""
    relative = module.relative_to(ROOT)
    name = "main" if relative.stem == "__main__" else relative.stem
    return ROOT / "tests" / relative.parent / f"test_{name}.py"


def dotted(module: Path) -> str:
    return ".".join(module.relative_to(ROOT).with_suffix("").parts)


def untested(root: Path = ROOT) -> dict[str, Path]:
    """Modules with logic that have neither a test file of their own nor an entry in WITHOUT_OWN_TEST."""
    found = [p for package in PACKAGES for p in sorted((root / package).rglob("*.py"))]
    modules = [p for p in found if p.name != "__init__.py" and "build" not in p.relative_to(root).parts]  # pip's copies
    return {
        dotted(p): mirror_of(p)
        for p in modules
        if has_logic(p) and not mirror_of(p).is_file() and dotted(p) not in WITHOUT_OWN_TEST
    }


def test_every_module_with_logic_has_its_test_file() -> None:
    missing = untested()
    assert not missing, "write these test files (or list the module in WITHOUT_OWN_TEST with a reason): " + ", ".join(
        str(path.relative_to(ROOT)) for path in missing.values()
    )


def test_every_listed_exception_still_needs_its_reason() -> None:
    for name, reason in WITHOUT_OWN_TEST.items():
        path = ROOT / (name.replace(".", "/") + ".py")
        assert path.is_file() and has_logic(path), f"{name} is listed but has no logic of its own: unlist it"
        assert not mirror_of(path).is_file(), f"{name} has its test file now: unlist it"
        assert len(reason) > 20, f"{name}: say where its behaviour is tested"


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("service/model/registry.py", "tests/service/model/test_registry.py"),
        ("training/publish/registry.py", "tests/training/publish/test_registry.py"),
        ("training/__main__.py", "tests/training/test_main.py"),
        ("client/csvfile.py", "tests/client/test_csvfile.py"),
    ],
)
def test_the_test_file_of_a_module_is_its_path_under_tests(module: str, expected: str) -> None:
    assert mirror_of(ROOT / module) == ROOT / expected


def test_a_module_without_a_test_file_is_found(tmp_path: Path) -> None:
    (tmp_path / "service" / "api").mkdir(parents=True)
    (tmp_path / "service" / "api" / "shapes.py").write_text("X: int = 1\n")  # declarations only
    (tmp_path / "service" / "api" / "routes.py").write_text("def route() -> None: ...\n")
    (tmp_path / "tests" / "service" / "api").mkdir(parents=True)
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert set(untested(tmp_path)) == {"service.api.routes"}
        (tmp_path / "tests" / "service" / "api" / "test_routes.py").write_text("")
        assert untested(tmp_path) == {}
    finally:
        ROOT = saved
