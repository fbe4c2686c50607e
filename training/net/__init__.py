"""The network: the stacked LSTM with its in-graph normalisation, its training loop and its ONNX export."""
