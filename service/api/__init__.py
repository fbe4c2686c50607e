"""The HTTP APIs: REST (/predict, health, model, admin), Open Inference Protocol, time series, the page."""
