"""Process logging: plain text for people, one JSON object per line for log collectors.

Configured once by the composition root; modules log through ``logging.getLogger(__name__)`` and
pass context (station id, party, request id) as ``extra``. Never logs secrets: ours don't, and at
DEBUG the libraries' records that would carry one are cut here (tests/test_security.py runs a
whole roaming flow at DEBUG and searches the output for every secret it used).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from intercarga.config import LogFormat

__all__ = ["HideCredentials", "JsonFormatter", "configure_logging"]

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


# Request headers whose values are credentials: HTTP Basic with a station's password, an OCPI
# ``Token``, the admin ``Bearer`` token.
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


class HideCredentials(logging.Filter):
    """Hides the value of credential headers in records that log one header as ``(name, value)``.

    websockets logs every handshake header so at DEBUG (``"< %s: %s"``), which would put each
    station's password, base64 in ``Authorization: Basic``, in the log. The header stays
    visible, its value does not.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (
            isinstance(args, tuple)
            and len(args) == 2
            and isinstance(args[0], str)
            and args[0].lower() in _CREDENTIAL_HEADERS
        ):
            record.args = (args[0], "[hidden]")
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = (
                    value if isinstance(value, str | int | float | bool | None) else str(value)
                )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {
            key: value
            for key, value in vars(record).items()
            if key not in _STANDARD and not key.startswith("_")
        }
        if extras:
            line += " " + " ".join(f"{key}={value}" for key, value in extras.items())
        return line


def configure_logging(log_format: LogFormat, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format is LogFormat.JSON:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(_TextFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(HideCredentials())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "websockets"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # websockets narrates every connection at INFO, opened or not: under a flood of half-open
    # sockets that is a line each. Stations' connections are logged by the OCPP server; at
    # DEBUG, whoever asked for it gets websockets' story too.
    logging.getLogger("websockets").setLevel(
        logging.NOTSET if root.level <= logging.DEBUG else logging.WARNING
    )
    # Alembic narrates every migration step at INFO; the summary line of `serve` is enough.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # aiosqlite logs every SQLite call with its parameters at DEBUG: rows with the tokens we
    # present to partners would be in the log (SQLAlchemy's own logger defaults to WARNING for
    # the same reason). Its errors still come through.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
