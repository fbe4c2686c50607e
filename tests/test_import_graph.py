"""The import graph, read with ast: service/'s layers import one way, route modules stand alone, and the service
and the trainer never meet."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# service/'s layers, top to bottom: a module may import its own layer (its own folder) and the layers below it.
LAYERS = (
    ("service.__main__", "service.healthcheck"),
    ("service.cli", "service.app"),
    ("service.server",),
    ("service.http",),
    ("service.api",),
    ("service.inference",),
    ("service.model",),
    ("service.config", "service.errors", "service.metrics", "service.cpus", "service"),  # shared by every layer
)


def imports(path: Path) -> set[str]:
    """Every module a file imports, absolute names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules(package: str) -> dict[str, Path]:
    """Every module of a package, its folders walked."""
    return {module_name(p): p for p in sorted((ROOT / package).rglob("*.py"))}


def layer_of(module: str) -> int | None:
    """The layer a service module belongs to: the longest prefix listed in LAYERS; None outside service."""
    ranks = {name: rank for rank, names in enumerate(LAYERS) for name in names}
    owners = [name for name in ranks if module == name or module.startswith(name + ".")]
    return ranks[max(owners, key=len)] if owners else None


def layer_violations(name: str, imported: set[str]) -> list[str]:
    """The imports of module `name` that run upward against the layer order."""
    own = layer_of(name)
    assert own is not None, f"{name} is in no layer: add it to LAYERS"
    return sorted(m for m in imported if (rank := layer_of(m)) is not None and rank < own)


def test_every_service_module_is_in_a_layer_and_imports_only_downward() -> None:
    modules = package_modules("service")
    assert {"service.model.forecaster", "service.api.rest", "service.http.fastpath"} <= set(modules)
    for name, path in modules.items():
        assert not layer_violations(name, imports(path)), (
            f"{name} imports upward: {layer_violations(name, imports(path))}"
        )


@pytest.mark.parametrize(
    ("name", "imported", "upward"),
    [
        ("service.model.registry", {"service.api.schemas", "service.errors"}, ["service.api.schemas"]),
        ("service.config", {"service.cpus"}, []),
        ("service.errors", {"service.app"}, ["service.app"]),
        ("service.http.middleware", {"service.http.logs", "service.inference.batching"}, []),
        ("service.inference.batching", {"service.http.logs"}, ["service.http.logs"]),
    ],
)
def test_the_layer_check_catches_an_upward_import(name: str, imported: set[str], upward: list[str]) -> None:
    assert layer_violations(name, imported) == upward


def test_no_service_file_is_over_250_lines() -> None:
    long = {name: n for name, p in package_modules("service").items() if (n := len(p.read_text().splitlines())) > 250}
    assert not long, f"split these by job: {long}"


def route_modules() -> set[str]:
    """Modules of service/ that define an APIRouter."""
    return {name for name, path in package_modules("service").items() if "= APIRouter(" in path.read_text()}


def test_the_route_modules_are_the_ones_expected() -> None:
    assert route_modules() == {"service.api.rest", "service.api.oip", "service.api.timeseries", "service.api.page"}


def test_no_route_module_imports_another() -> None:
    routes = route_modules()
    for name in routes:
        crossing = {m for m in imports(package_modules("service")[name]) if m in routes - {name}}
        assert not crossing, f"{name} imports route module(s) {sorted(crossing)}"


def test_service_and_training_never_import_each_other() -> None:
    for package, other in (("service", "training"), ("training", "service")):
        modules = package_modules(package)
        assert len(modules) > 15
        for name, path in modules.items():
            crossing = {m for m in imports(path) if m == other or m.startswith(other + ".")}
            assert not crossing, f"{name} imports {sorted(crossing)}"


TRAINER_ONLY = ("torch", "pandas", "arch", "matplotlib", "onnxscript", "tqdm")
TORCH_FREE_TRAINING = ("training.data", "training.config")  # numpy and the standard library only


def test_service_and_reliability_tests_need_no_trainer_dependencies() -> None:
    files = [*(ROOT / "tests" / "service").glob("*.py"), *(ROOT / "tests" / "reliability").glob("*.py")]
    files.append(ROOT / "tests" / "conftest.py")
    assert len(files) > 10
    for path in files:
        for module in imports(path):
            root = module.split(".")[0]
            assert root not in TRAINER_ONLY, f"{path.relative_to(ROOT)} imports {module}"
            if root == "training" and module.count(".") >= 1:
                owner = ".".join(module.split(".")[:2])
                assert owner in TORCH_FREE_TRAINING, f"{path.relative_to(ROOT)} imports {module}"
