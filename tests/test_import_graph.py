"""The import graph, read with ast: route modules stand alone, and the service and the trainer never meet."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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


def package_modules(package: str) -> dict[str, Path]:
    return {f"{package}.{p.stem}": p for p in (ROOT / package).glob("*.py")}


def route_modules() -> set[str]:
    """Modules of service/ that define an APIRouter."""
    return {name for name, path in package_modules("service").items() if "= APIRouter(" in path.read_text()}


def test_the_route_modules_are_the_ones_expected() -> None:
    assert route_modules() == {"service.api", "service.oip", "service.timeseries", "service.page"}


def test_no_route_module_imports_another() -> None:
    routes = route_modules()
    for name in routes:
        crossing = {m for m in imports(package_modules("service")[name]) if m in routes - {name}}
        assert not crossing, f"{name} imports route module(s) {sorted(crossing)}"


def test_service_and_training_never_import_each_other() -> None:
    for package, other in (("service", "training"), ("training", "service")):
        for name, path in package_modules(package).items():
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
