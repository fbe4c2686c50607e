"""The Prometheus alert rules: valid (promtool check rules), firing when they should and only then (promtool test
rules on their unit tests), and on metrics the service really exports, with the labels it gives them."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from service.metrics import ServiceMetrics
from tests.live_server import ROOT

RULES = ROOT / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")  # Debian's prometheus package (make test installs it)


def test_promtool_is_there() -> None:
    assert PROMTOOL, "promtool is missing: apt-get install --no-install-recommends prometheus (make test does)"


@pytest.mark.parametrize("command", [["check", "rules", "alerts.yml"], ["test", "rules", "alerts.test.yml"]])
def test_promtool_accepts_the_rules_and_their_tests(command: list[str]) -> None:
    done = subprocess.run([PROMTOOL or "promtool", *command], cwd=RULES, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr


def exported() -> dict[str, set[str]]:
    """Every metric the service exports (counters with their _total) and its label names."""
    found: dict[str, set[str]] = {}
    for collector in ServiceMetrics().registry.collect():
        for sample in collector.samples:
            found.setdefault(sample.name, set()).update(sample.labels)
        found.setdefault(collector.name + ("_total" if collector.type == "counter" else ""), set())
    for name, collector in ServiceMetrics().registry._names_to_collectors.items():  # labels of unset metrics
        found.setdefault(name, set()).update(getattr(collector, "_labelnames", ()))
    return found


def test_every_metric_and_label_in_the_rules_is_one_the_service_exports() -> None:
    metrics = exported()
    rules = [r for g in yaml.safe_load((RULES / "alerts.yml").read_text())["groups"] for r in g["rules"]]
    for rule in rules:
        names = set(re.findall(r"\b(forecast_[a-z_]+)\b", rule["expr"]))
        assert names, rule["alert"]
        for name in names:
            assert name in metrics, f"{rule['alert']}: {name} is not a metric of the service"
        grouped = {
            label.strip() for part in re.findall(r"(?:by|on) \(([^)]*)\)", rule["expr"]) for label in part.split(",")
        }
        wanted = set().union(*(metrics[n] for n in names))
        assert grouped <= wanted, f"{rule['alert']}: labels {grouped - wanted} are not the service's"
