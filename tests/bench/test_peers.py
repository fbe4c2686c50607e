"""The bench's peers open the model the way the service does: the same onnxruntime session options."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort
import pytest

from bench.peers.session import cpu_session, session_options
from service.model.sessions import session_options as service_options

SPINNING = "session.intra_op.allow_spinning"


def described(options: ort.SessionOptions) -> tuple[object, ...]:
    return (
        options.graph_optimization_level,
        options.intra_op_num_threads,
        options.inter_op_num_threads,
        options.execution_mode,
        options.get_session_config_entry(SPINNING),
    )


@pytest.mark.parametrize("threads", [None, "2"])
def test_a_peer_session_has_the_service_options(monkeypatch: pytest.MonkeyPatch, threads: str | None) -> None:
    if threads is None:
        monkeypatch.delenv("FORECAST_INTRA_OP_THREADS", raising=False)
    else:
        monkeypatch.setenv("FORECAST_INTRA_OP_THREADS", threads)
    assert described(session_options()) == described(service_options(int(threads or 1)))
    assert described(session_options())[-1] == "0"  # no spinning: onnxruntime's default spins


def test_a_peer_opens_the_live_model(monkeypatch: pytest.MonkeyPatch, model_pair: tuple[Path, str, str]) -> None:
    monkeypatch.setenv("FORECAST_MODEL_DIR", str(model_pair[0]))
    session = cpu_session()
    assert [i.name for i in session.get_inputs()] == ["window"]
    assert session.get_session_options().get_session_config_entry(SPINNING) == "0"
