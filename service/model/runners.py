"""How one onnxruntime session runs a batch: plainly, or padded to a captured size through IO binding."""

from __future__ import annotations

import threading
from typing import Protocol

import numpy as np
import onnxruntime as ort

CUDA_DEVICE = "cuda"


class Runner(Protocol):
    """Runs (B, window[, F]) float32 windows and returns the named outputs, B rows each."""

    session: ort.InferenceSession

    def run(self, windows: np.ndarray) -> list[np.ndarray]: ...

    def describe(self) -> dict[str, object]: ...


class SessionRunner:
    """session.run with whatever batch size arrives."""

    def __init__(self, session: ort.InferenceSession, outputs: list[str]) -> None:
        self.session, self.outputs = session, outputs

    def run(self, windows: np.ndarray) -> list[np.ndarray]:
        return self.session.run(self.outputs, {"window": windows})

    def describe(self) -> dict[str, object]:
        threads = self.session.get_session_options().intra_op_num_threads
        return {"providers": self.session.get_providers(), "graph_sizes": [], "intra_op_threads": threads}


class SplitRunner:
    """Two CPU sessions of one model: one thread for batches under parallel_from windows, every intra-op
    thread from there.

    Small batches mean concurrent clients, and the other cores are busy answering them: one thread costs less
    CPU per window (no hand-off between threads at each of the LSTM's steps) and leaves those cores free. A
    large batch is mostly one large request with the machine to itself, and finishes sooner spread out.
    """

    def __init__(self, single: SessionRunner, parallel: SessionRunner, parallel_from: int) -> None:
        self.single, self.parallel, self.parallel_from = single, parallel, parallel_from
        self.session = parallel.session

    def run(self, windows: np.ndarray) -> list[np.ndarray]:
        return (self.parallel if len(windows) >= self.parallel_from else self.single).run(windows)

    def describe(self) -> dict[str, object]:
        return {**self.parallel.describe(), "parallel_min_batch": self.parallel_from}


def graph_sizes(max_batch: int) -> list[int]:
    """Powers of two up to the first one that holds max_batch."""
    sizes = [1]
    while sizes[-1] < max_batch:
        sizes.append(sizes[-1] * 2)
    return sizes


class Slot:
    """One fixed batch size: its input and output buffers, bound once, and its graph id."""

    def __init__(self, session: ort.InferenceSession, outputs: list[str], size: int, graph_id: int) -> None:
        device = CUDA_DEVICE if session.get_providers()[0] == "CUDAExecutionProvider" else "cpu"
        shape = [size, *captured_shape(session)]
        self.size = size
        self.input = ort.OrtValue.ortvalue_from_shape_and_type(shape, np.float32, device, 0)
        shapes = {o.name: [size, *o.shape[1:]] for o in session.get_outputs()}
        self.outputs = [ort.OrtValue.ortvalue_from_shape_and_type(shapes[n], np.float32, device, 0) for n in outputs]
        self.binding = session.io_binding()
        self.binding.bind_ortvalue_input("window", self.input)
        for name, value in zip(outputs, self.outputs, strict=True):
            self.binding.bind_ortvalue_output(name, value)
        # A CUDA graph replays fixed device addresses: each size keeps its own buffers and graph id
        # (0 is reserved by onnxruntime).
        self.options = ort.RunOptions()
        self.options.add_run_config_entry("gpu_graph_id", str(graph_id))


def captured_shape(session: ort.InferenceSession) -> list[int]:
    """A window's shape in the captured graphs: a dynamic length is captured at the shortest (the card's window)."""
    dims = session.get_inputs()[0].shape[1:]
    shortest = int(session.get_modelmeta().custom_metadata_map.get("window", 0) or 0)
    return [d if isinstance(d, int) and d > 0 else shortest for d in dims]


class GraphRunner:
    """Pads each batch to the next captured size and replays that size's graph (CUDA graphs on a GPU).

    Graphs are captured for windows of the shortest length, what most clients post; a batch of another
    length runs as a plain run of the same session, outside any graph (gpu_graph_id -1). On CPU the same
    padding, buffers and binding run without capture, which is how the tests exercise it.
    """

    def __init__(self, session: ort.InferenceSession, outputs: list[str], max_batch: int) -> None:
        self.session, self.outputs = session, outputs
        self.slots = [Slot(session, outputs, size, i + 1) for i, size in enumerate(graph_sizes(max_batch))]
        self.shape = tuple(captured_shape(session))
        self.uncaptured = ort.RunOptions()
        self.uncaptured.add_run_config_entry("gpu_graph_id", "-1")
        self._lock = threading.Lock()  # buffers are shared: one run at a time

    def slot_for(self, batch: int) -> Slot:
        """The smallest captured size that holds `batch` windows."""
        for slot in self.slots:
            if slot.size >= batch:
                return slot
        raise ValueError(f"a batch of {batch} windows is larger than the largest captured size {slot.size}")

    def run(self, windows: np.ndarray) -> list[np.ndarray]:
        if windows.shape[1:] != self.shape:
            with self._lock:
                return self.session.run(self.outputs, {"window": windows}, self.uncaptured)
        slot = self.slot_for(len(windows))
        padded = pad_rows(windows, slot.size)
        with self._lock:
            slot.input.update_inplace(padded)
            self.session.run_with_iobinding(slot.binding, slot.options)
            return [value.numpy()[: len(windows)].copy() for value in slot.outputs]

    def capture(self) -> None:
        """Runs every size until its graph is captured (onnxruntime captures after one plain run)."""
        for slot in self.slots:
            for _ in range(2):
                self.session.run_with_iobinding(slot.binding, slot.options)

    def describe(self) -> dict[str, object]:
        return {"providers": self.session.get_providers(), "graph_sizes": [s.size for s in self.slots]}


def pad_rows(windows: np.ndarray, size: int) -> np.ndarray:
    """`windows` followed by copies of its first row, `size` rows in all: padding must be valid prices."""
    if len(windows) == size:
        return np.ascontiguousarray(windows, dtype=np.float32)
    filler = np.broadcast_to(windows[:1], (size - len(windows), *windows.shape[1:]))
    return np.concatenate([windows, filler]).astype(np.float32, copy=False)
