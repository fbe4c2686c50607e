"""Property tests on the prediction path: finite, scale-equivariant, order-free batches, monotone quantiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.app import create_app
from service.config import Settings
from service.model.forecaster import Forecaster, load_forecaster
from service.model.sessions import SessionConfig

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def model(model_pair: tuple[Path, str, str]) -> Forecaster:
    registry, _, version = model_pair
    return load_forecaster(registry / version, version, SessionConfig("cpu", 1))


@pytest.fixture(scope="module")
def client(model_pair: tuple[Path, str, str]) -> TestClient:
    settings_ = Settings(model_dir=model_pair[0], reload_seconds=0, intra_op_threads=1, _env_file=None)
    with TestClient(create_app(settings_)) as c:
        yield c


# Valid windows of every length the tiny model reads (60 to 300): positive prices from a cent to a billion,
# with daily moves of up to +-50% over 60 days (smaller over longer windows, so that prices stay in float32).
windows = st.builds(
    lambda start, moves: (start * np.exp(np.cumsum(moves) * 60 / len(moves))).astype(np.float32),
    st.floats(0.01, 1e9),
    st.integers(60, 300).flatmap(lambda n: st.lists(st.floats(-0.5, 0.5), min_size=n, max_size=n)).map(np.array),
)


@PROPERTY_SETTINGS
@given(window=windows)
def test_forecasts_and_quantiles_are_finite_and_monotone(model: Forecaster, window: np.ndarray) -> None:
    forecast, quantiles = model.predict(window[None, :])
    assert np.all(np.isfinite(forecast)) and np.all(np.isfinite(quantiles))
    assert np.all(np.diff(quantiles, axis=-1) >= 0)
    assert quantiles[0, 0, 0] <= forecast[0, 0] <= quantiles[0, 0, -1]


@PROPERTY_SETTINGS
@given(window=windows, k=st.floats(1e-3, 1e3))
def test_scaling_a_window_scales_every_output(model: Forecaster, window: np.ndarray, k: float) -> None:
    scaled = (window.astype(np.float64) * k).astype(np.float32)
    f1, q1 = model.predict(window[None, :])
    f2, q2 = model.predict(scaled[None, :])
    np.testing.assert_allclose(f2, f1 * k, rtol=1e-4)
    np.testing.assert_allclose(q2, q1 * k, rtol=1e-4)


@PROPERTY_SETTINGS
@given(batch=st.lists(windows, min_size=1, max_size=12), seed=st.integers(0, 2**16))
def test_batch_answers_equal_single_answers_in_any_order(client: TestClient, batch: list, seed: int) -> None:
    rows = [w.astype(np.float64).tolist() for w in batch]
    order = np.random.default_rng(seed).permutation(len(rows))
    shuffled = [rows[i] for i in order]
    answer = client.post("/predict", json={"windows": shuffled}).json()
    singles = [client.post("/predict", json={"window": r}).json() for r in rows]
    for position, i in enumerate(order):
        assert answer["forecasts"][position] == pytest.approx(singles[i]["forecast"], rel=1e-6)
        assert answer["quantiles"][position] == pytest.approx(singles[i]["quantiles"], rel=1e-6)
