"""ASGI layers around every route: body limits, request ids, access logs, metrics, the /predict fast path."""
