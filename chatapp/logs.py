"""Logging: one line per event with time and level, to stderr and optionally a rotated file."""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

SECRET_PARAMETER = re.compile(r"(?<=[?&]token=)[^&\s\"]+")


class RedactTokens(logging.Filter):
    """Access-log lines show `token=…` instead of a token passed in a URL (/launch)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                SECRET_PARAMETER.sub("…", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str = "INFO", log_file: Path | None = None) -> None:
    """Configure the root logger once; a log file rotates at 10 MB keeping 5 old files."""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                log_file, maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8"
            )
        )
    logging.basicConfig(level=level, format=FORMAT, handlers=handlers, force=True)
    # Each request is already one line in our own log; httpx's per-request INFO lines are noise.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokens) for f in access.filters):
        access.addFilter(RedactTokens())
