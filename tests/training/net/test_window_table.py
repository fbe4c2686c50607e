"""The window's own table: numpy's quantiles of its returns, blended into the pooled one by how many it holds."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from training.net.window_table import PRIOR_RETURNS, WindowTable, empirical_quantiles

LEVELS = (0.025, 0.1, 0.5, 0.9, 0.975)
POOLED = torch.tensor([[-2.2, -1.3, 0.07, 1.3, 2.0]])


@pytest.mark.parametrize("count", [1, 2, 49, 240, 989])
def test_empirical_quantiles_are_numpys(count: int) -> None:
    u = np.random.default_rng(count).standard_t(4, (3, count)).astype(np.float32)
    got = empirical_quantiles(torch.from_numpy(u), torch.tensor(LEVELS))
    np.testing.assert_allclose(got.numpy(), np.quantile(u, LEVELS, axis=1).T, rtol=1e-5, atol=1e-6)


def test_the_blend_weighs_the_window_by_its_count_and_keeps_the_pooled_median() -> None:
    table = WindowTable(LEVELS, median=2)
    rng = np.random.default_rng(0)
    for count in (49, 240, 989):
        u = torch.tensor(rng.standard_t(3, (4, count)), dtype=torch.float32)
        with torch.no_grad():
            got = table(u, POOLED)  # (B, 1, Q)
        own = empirical_quantiles(u, torch.tensor(LEVELS))
        weight = count / (count + PRIOR_RETURNS)
        want = POOLED + weight * (own - own[:, 2:3] + POOLED[:, 2:3] - POOLED)
        torch.testing.assert_close(got[:, 0], want)
        torch.testing.assert_close(got[:, 0, 2], POOLED[0, 2].expand(4))


def test_a_flat_window_keeps_positive_gaps() -> None:
    """Every return the same: its own table has no width, so the blend keeps a share of the pooled gaps."""
    with torch.no_grad():
        got = WindowTable(LEVELS, median=2)(torch.zeros(2, 989), POOLED)
    assert torch.all(got[..., 1:] - got[..., :-1] > 0)


def test_the_exported_graph_reads_the_count_of_each_posted_window(tmp_path: Path) -> None:
    """Exported at one length, the graph's quantile positions and weight follow the length it is given."""
    table = WindowTable(LEVELS, median=2).eval()

    class Blend(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.table = table

        def forward(self, u: torch.Tensor) -> torch.Tensor:
            return self.table(u, POOLED)

    path = tmp_path / "blend.onnx"
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation notice: chosen on purpose (export.py)
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Blend(),
            (torch.randn(2, 49),),
            str(path),
            input_names=["u"],
            dynamic_axes={"u": {0: "b", 1: "m"}},
            dynamo=False,
        )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for count in (49, 240, 989):
        u = np.random.default_rng(count).standard_t(4, (3, count)).astype(np.float32)
        with torch.no_grad():
            want = table(torch.from_numpy(u), POOLED).numpy()
        np.testing.assert_allclose(session.run(None, {"u": u})[0], want, rtol=1e-5, atol=1e-6)
