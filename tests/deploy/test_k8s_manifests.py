"""The Kubernetes manifests validate against the Kubernetes schemas (offline, kubernetes-validate)."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from service.__main__ import uvicorn_config
from tests.live_server import ROOT

MANIFESTS = sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
K8S_VERSION = "1.30.0"


def documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


@pytest.mark.parametrize("path", [p for p in MANIFESTS if p.name != "inferenceservice.yaml"], ids=lambda p: p.name)
def test_manifest_validates(path: Path) -> None:
    for doc in documents(path):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_all_kinds_present() -> None:
    kinds = {d["kind"] for p in MANIFESTS for d in documents(p)}
    assert kinds == {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PersistentVolumeClaim",
        "CronJob",
        "InferenceService",
        "StatefulSet",
    }


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


def test_replicas_and_the_retrain_job_share_one_postgres_whose_url_and_password_are_one_secret() -> None:
    service, stateful = documents(ROOT / "deploy" / "k8s" / "postgres.yaml")
    (deployment,) = documents(ROOT / "deploy" / "k8s" / "deployment.yaml")
    (cronjob,) = documents(ROOT / "deploy" / "k8s" / "cronjob.yaml")
    api = env_of(deployment["spec"]["template"]["spec"]["containers"][0])
    job = env_of(cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0])
    for env in (api, job):
        ref = env["FORECAST_STORE"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "lstm-forecast-store", "key": "url"}  # required: never a silent SQLite per pod
    postgres = stateful["spec"]["template"]["spec"]["containers"][0]
    password = env_of(postgres)["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert password == {"name": "lstm-forecast-store", "key": "password"}
    comment = (ROOT / "deploy" / "k8s" / "postgres.yaml").read_text()
    database = env_of(postgres)["POSTGRES_DB"]["value"]
    host = f"@{service['metadata']['name']}:{service['spec']['ports'][0]['port']}/{database}"
    assert host in comment and "kubectl create secret generic lstm-forecast-store" in comment
    assert stateful["spec"]["serviceName"] == service["metadata"]["name"]
    assert service["spec"]["selector"] == stateful["spec"]["template"]["metadata"]["labels"]
    assert stateful["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] in {
        m["name"] for m in postgres["volumeMounts"]
    }


def test_deployment_probes_and_hardening() -> None:
    (deployment,) = documents(ROOT / "deploy" / "k8s" / "deployment.yaml")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container["resources"]["limits"] and container["resources"]["requests"]


def test_inference_service_shape() -> None:
    # A CRD: kubernetes-validate has no schema for it, so check the fields KServe requires by hand.
    (isvc,) = documents(ROOT / "deploy" / "k8s" / "inferenceservice.yaml")
    assert isvc["apiVersion"] == "serving.kserve.io/v1beta1" and isvc["kind"] == "InferenceService"
    model = isvc["spec"]["predictor"]["model"]
    assert model["modelFormat"]["name"] == "onnx" and model["protocolVersion"] == "v2"
    assert model["storageUri"].endswith("triton_models")


def test_pods_keep_accepting_until_endpoints_drop_them_then_drain_within_the_grace_period() -> None:
    (deployment,) = documents(ROOT / "deploy" / "k8s" / "deployment.yaml")
    pod = deployment["spec"]["template"]["spec"]
    command = pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep" and int(command[1]) >= 5
    drain = uvicorn_config(object()).timeout_graceful_shutdown  # the service's own drain limit after SIGTERM
    assert drain is not None and pod["terminationGracePeriodSeconds"] > int(command[1]) + drain
