"""lstm-forecast's trainer: data loading, the stacked LSTM, ONNX export and the model registry."""
