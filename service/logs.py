"""Structured logging: one JSON object per line, configured once at start-up."""

from __future__ import annotations

import atexit
import json
import logging
import logging.config
import logging.handlers
import queue
import time
from typing import Any


class JsonFormatter(logging.Formatter):
    """Formats a record as JSON: time, level, logger, message, plus the record's `fields` dict if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:  # logs keep the trace; responses never do
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:  # already rendered by DeferredQueueHandler
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str)


def logging_config(level: str) -> dict[str, Any]:
    """A dictConfig for the service and uvicorn alike; uvicorn's access log is replaced by ours."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"level": level.upper()},
            "uvicorn.access": {"level": "WARNING", "propagate": False, "handlers": []},
        },
    }


class DeferredQueueHandler(logging.handlers.QueueHandler):
    """Hands records to a listener thread that formats and writes them: the event loop only enqueues."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        if record.exc_info:  # tracebacks cannot cross threads safely: render them here, rarely
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        record.msg, record.args = record.getMessage(), None
        return record


def configure_logging(level: str) -> None:
    """Installs the JSON configuration, written from a listener thread off the event loop."""
    logging.config.dictConfig(logging_config(level))
    root = logging.getLogger()
    writers = list(root.handlers)
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = logging.handlers.QueueListener(records, *writers, respect_handler_level=True)
    root.handlers = [DeferredQueueHandler(records)]
    listener.start()
    atexit.register(listener.stop)  # flushes what is queued when the process exits
