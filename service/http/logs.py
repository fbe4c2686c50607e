"""Structured logging: one JSON object per line, configured once at start-up."""

from __future__ import annotations

import atexit
import logging
import logging.config
import logging.handlers
import queue
import sys
import threading
import time
from typing import Any, TextIO

import orjson


def utc_stamp(created: float) -> str:
    """A Unix time as ISO 8601 UTC with milliseconds: 2026-11-28T21:43:34.699Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created % 1 * 1000):03d}Z"


class JsonFormatter(logging.Formatter):
    """Formats a record as JSON: time, level, logger, message, plus the record's `fields` dict if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": utc_stamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:  # logs keep the trace; responses never do
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:  # already rendered by DeferredQueueHandler
            entry["exception"] = record.exc_text
        return orjson.dumps(entry, default=str).decode()


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
    """Hands records to the writer thread that formats and writes them: the event loop only enqueues."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        if record.exc_info:  # tracebacks cannot cross threads safely: render them here, rarely
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        record.msg, record.args = record.getMessage(), None
        return record


# One access-log entry: (unix time, request_id, method, path, status, duration_ms, batch_size, model_version)
AccessEntry = tuple[float, str, str, str, int, float, int | None, str | None]
ACCESS_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "batch_size", "model_version")
ACCESS_LOGGER = "service.access"
_STOP = object()
# After each write the writer lets lines gather this long: under load it then takes the GIL from the event loop
# 50 times a second, not after nearly every request (each hand-off of the GIL costs both threads a wake-up).
GATHER_S = 0.02


def access_line(entry: AccessEntry) -> str:
    """The access-log line JsonFormatter would write for this request, without building a LogRecord."""
    head = {"time": utc_stamp(entry[0]), "level": "info", "logger": ACCESS_LOGGER, "message": "request"}
    return orjson.dumps({**head, **dict(zip(ACCESS_FIELDS, entry[1:], strict=True))}).decode() + "\n"


class LogWriter(threading.Thread):
    """One thread formats and writes every line, logging's records and access entries alike, in arrival
    order and as many per write as have queued up (at most GATHER_S late): a request costs one queue put."""

    def __init__(self, items: queue.SimpleQueue[Any], stream: TextIO, formatter: logging.Formatter) -> None:
        super().__init__(name="log-writer", daemon=True)
        self.items, self.stream, self.formatter = items, stream, formatter

    def run(self) -> None:
        while True:
            lines, item = [], self.items.get()
            while item is not _STOP:
                lines.append(self.line(item))
                try:
                    item = self.items.get_nowait()
                except queue.Empty:
                    break
            self.write("".join(lines))
            if item is _STOP:
                return
            time.sleep(GATHER_S)

    def line(self, item: logging.LogRecord | AccessEntry) -> str:
        if isinstance(item, logging.LogRecord):
            return self.formatter.format(item) + "\n"
        return access_line(item)

    def write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or full stream must not kill the writer
            pass

    def stop(self) -> None:
        """Writes what is queued, then ends."""
        self.items.put(_STOP)
        self.join(timeout=5)


_access_queue: queue.SimpleQueue[Any] | None = None  # set while a LogWriter runs with the access log on


def log_access(entry: AccessEntry) -> None:
    """Queues one access-log line; without a running writer (in-process tests) it goes through logging."""
    sink = _access_queue
    if sink is not None:
        sink.put(entry)
    elif logging.getLogger(ACCESS_LOGGER).isEnabledFor(logging.INFO):
        fields = dict(zip(ACCESS_FIELDS, entry[1:], strict=True))
        logging.getLogger(ACCESS_LOGGER).info("request", extra={"fields": fields})


def configure_logging(level: str) -> None:
    """Installs the JSON configuration, written by one writer thread off the event loop."""
    global _access_queue
    logging.config.dictConfig(logging_config(level))
    root = logging.getLogger()
    items: queue.SimpleQueue[Any] = queue.SimpleQueue()
    writer = LogWriter(items, sys.stderr, JsonFormatter())
    root.handlers = [DeferredQueueHandler(items)]
    writer.start()
    atexit.register(writer.stop)  # writes what is queued when the process exits
    _access_queue = items if logging.getLogger(ACCESS_LOGGER).isEnabledFor(logging.INFO) else None
