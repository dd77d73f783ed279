"""Logging set-up that keeps secrets (the bot token, the database password) out of every line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime


class RedactSecrets(logging.Filter):
    """Replace each secret wherever it appears in a record (URLs in errors, messages, args,
    tracebacks)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "<secret>")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        redacted = self._redact(text)
        if redacted != text:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            rendered = logging.Formatter().formatException(record.exc_info)
            redacted = self._redact(rendered)
            if redacted != rendered:
                record.msg = f"{record.msg}\n{redacted}"
                record.exc_info = None
                record.exc_text = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log collectors: time, level, logger, message, and the chat
    id when the record has one (`extra={"chat_id": ...}`)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        chat_id = getattr(record, "chat_id", None)
        if chat_id is not None:
            entry["chat_id"] = chat_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


# Libraries that log what they carry at DEBUG: python-telegram-bot every request's parameters
# and every answer (whole updates: names, texts), aiosqlite every query's parameters. (And
# SQLAlchemy, once a level is set on its loggers: the rows it reads; see below.)
CARRIERS = ("telegram", "aiosqlite")


def configure_logging(
    level: str, secrets: Iterable[str], log_format: str = "text", personal_data: bool = False
) -> None:
    """Log to stderr at `level`, secrets hidden. Unless `personal_data`, the libraries that log
    people's names and texts stop at INFO (SQLAlchemy at WARNING); Agora's own lines name
    chats, people and messages by their ids only, at every level."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if log_format == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request URL, and the URL holds the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # Alembic tells every migration step it runs at start-up: detail, not news.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    for name in CARRIERS:
        logging.getLogger(name).setLevel(
            logging.NOTSET if personal_data else max(logging.INFO, root.level)
        )
    # A level set on SQLAlchemy's loggers turns its echo on (every statement at INFO).
    logging.getLogger("sqlalchemy").setLevel(
        logging.NOTSET if personal_data else max(logging.WARNING, root.level)
    )
