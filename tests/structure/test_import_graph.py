"""The import graph, read with ast: service/'s and training/'s layers import one way, route modules stand alone,
nothing but the CLI reaches into the studies, and the service and the trainer never meet."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Each package's layers, top to bottom: a module may import its own layer (its own folder) and the layers below it.
SERVICE_LAYERS = (
    ("service.__main__", "service.healthcheck"),
    ("service.cli", "service.app"),
    ("service.server",),
    ("service.http",),
    ("service.api",),
    ("service.inference",),
    ("service.ledger",),
    ("service.model",),
    ("service.config", "service.errors", "service.metrics", "service.cpus", "service"),  # shared by every layer
)
TRAINING_LAYERS = (
    ("training.__main__", "training.commands"),  # the CLI: the one place that wires the product and the studies
    ("training.studies",),  # reports only: evaluate, leave-one-out, ablation, window-limit, family reader
    ("training.publish",),  # build a version, the registry, retrain, the bundled default, Triton
    ("training.scoring",),  # metrics, tests, the simple methods, held-out days, the gate
    ("training.net",),  # the network, its training loop, its export
    ("training.core", "training"),  # configs, options, data, simulated series, records, errors
)
LAYERS = {"service": SERVICE_LAYERS, "training": TRAINING_LAYERS}


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
    """The layer a module belongs to: the longest prefix listed in its package's LAYERS; None outside them."""
    layers = LAYERS.get(module.split(".")[0], ())
    ranks = {name: rank for rank, names in enumerate(layers) for name in names}
    owners = [name for name in ranks if module == name or module.startswith(name + ".")]
    return ranks[max(owners, key=len)] if owners else None


def layer_violations(name: str, imported: set[str]) -> list[str]:
    """The imports of module `name` that run upward against the layer order."""
    own, package = layer_of(name), name.split(".")[0]
    assert own is not None, f"{name} is in no layer: add it to LAYERS"
    return sorted(
        m for m in imported if m.split(".")[0] == package and (rank := layer_of(m)) is not None and rank < own
    )


@pytest.mark.parametrize(
    ("package", "expected"),
    [
        ("service", {"service.model.forecaster", "service.api.rest", "service.http.fastpath"}),
        (
            "training",
            {"training.core.config", "training.net.model", "training.scoring.gate", "training.publish.retrain"},
        ),
    ],
)
def test_every_module_is_in_a_layer_and_imports_only_downward(package: str, expected: set[str]) -> None:
    modules = package_modules(package)
    assert expected <= set(modules)
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
        ("training.net.train", {"training.core.config", "training.scoring.metrics"}, ["training.scoring.metrics"]),
        ("training.core.config", {"training.scoring.metrics"}, ["training.scoring.metrics"]),
        ("training.scoring.gate", {"training.scoring.holdout", "training.core.config", "numpy"}, []),
        ("training.publish.retrain", {"training.studies.loo", "training.scoring.gate"}, ["training.studies.loo"]),
        ("training.studies.loo", {"training.publish.build", "training.commands"}, ["training.commands"]),
        ("training.__main__", {"training.studies.commands", "training.commands"}, []),
    ],
)
def test_the_layer_check_catches_an_upward_import(name: str, imported: set[str], upward: list[str]) -> None:
    assert layer_violations(name, imported) == upward


@pytest.mark.parametrize("package", ["service", "training"])
def test_no_file_is_over_250_lines(package: str) -> None:
    long = {name: n for name, p in package_modules(package).items() if (n := len(p.read_text().splitlines())) > 250}
    assert not long, f"split these by job: {long}"


STUDIES = "training.studies"


def study_importers(modules: dict[str, set[str]]) -> set[str]:
    """Modules outside training/studies/ that import from it, the CLI (training.__main__) excepted."""
    inside = lambda m: m == STUDIES or m.startswith(STUDIES + ".")  # noqa: E731
    return {n for n, found in modules.items() if not inside(n) and n != "training.__main__" and any(map(inside, found))}


def test_nothing_but_the_cli_imports_the_studies() -> None:
    modules = {name: imports(path) for name, path in package_modules("training").items()}
    assert "training.studies.ablation" in modules
    assert not study_importers(modules), "the product path must not need a study: move what it uses below"


def test_the_studies_check_catches_a_product_module_that_imports_one() -> None:
    made_up = {
        "training.__main__": {"training.studies.commands"},
        "training.publish.retrain": {"training.studies.loo"},
        "training.studies.ablation": {"training.studies.loo", "training.publish.build"},
    }
    assert study_importers(made_up) == {"training.publish.retrain"}


def route_modules() -> set[str]:
    """Modules of service/ that define an APIRouter."""
    return {name for name, path in package_modules("service").items() if "= APIRouter(" in path.read_text()}


def test_the_route_modules_are_the_ones_expected() -> None:
    expected = {
        "service.api.rest",
        "service.api.oip",
        "service.api.timeseries",
        "service.api.outcomes",
        "service.api.page",
    }
    assert route_modules() == expected


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
TORCH_FREE_TRAINING = (
    "training.core.csvfile",
    "training.core.data",
    "training.publish.bundled",
)  # no torch, pandas or arch


def test_service_and_reliability_tests_need_no_trainer_dependencies() -> None:
    torch_free = ("service", "reliability", "browser", "workers", "stress")
    files = [path for folder in torch_free for path in (ROOT / "tests" / folder).rglob("*.py")]
    files += [ROOT / "tests" / "conftest.py", ROOT / "tests" / "live_server.py"]
    assert len(files) > 10
    for path in files:
        for module in imports(path):
            root = module.split(".")[0]
            assert root not in TRAINER_ONLY, f"{path.relative_to(ROOT)} imports {module}"
            if root == "training" and module.count(".") >= 2:
                owner = ".".join(module.split(".")[:3])
                assert owner in TORCH_FREE_TRAINING, f"{path.relative_to(ROOT)} imports {module}"
