"""The bot's configuration, read from the environment and an optional `.env` file."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from bot.core.arguments import time_zone

# A token as @BotFather hands it out: the bot's numeric id, a colon, a 35-character secret.
_TOKEN_SHAPE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")
# What Telegram accepts as a webhook's secret_token.
_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./data/agora.db"
SUPPORTED_DATABASES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A setting is missing or malformed; the message is safe to print (never holds a secret)."""


class StartupError(Exception):
    """The bot cannot start (database unreachable, token rejected…); the message is one line,
    safe to print (never holds a secret)."""


class Settings(BaseSettings):
    """Everything the bot reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    bot_token: SecretStr = Field(description="The token given by @BotFather (required).")
    telegram_api_url: str = Field(
        default="https://api.telegram.org",
        description="Base URL of the Bot API; requests go to {TELEGRAM_API_URL}/bot{BOT_TOKEN}/…",
    )
    database_url: str = Field(
        default=DEFAULT_SQLITE_URL,
        description="Any SQLAlchemy URL; SQLite (default, under ./data/) or postgresql://…",
    )
    default_language: Literal["fr", "en"] = Field(
        default="fr", description="Language of chats that chose none (fr or en)."
    )
    timezone: str = Field(default="Europe/Paris", description="Default time zone of digests.")
    digest_time: time = Field(default=time(9, 0), description="Default digest time, HH:MM.")
    log_level: str = Field(
        default="INFO", description="Logging level: DEBUG, INFO, WARNING, ERROR or CRITICAL."
    )
    log_personal_data: bool = Field(
        default=False,
        description="Let the libraries' DEBUG lines (whole updates, query parameters) into the "
        "logs, with people's names and texts; off: none of them below INFO.",
    )
    rate_limit: bool = Field(
        default=True, description="Pace sends within Telegram's flood limits."
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="Log lines as text, or as one JSON object each (json)."
    )
    articles_dir: Path = Field(
        default=Path("data/articles"),
        description="Folder of articles (*.toml) beside the packaged ones; reloaded on SIGHUP "
        "and when it changes.",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Serve /metrics (Prometheus) and /healthz on this port (off when unset).",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Interface the metrics server listens on (0.0.0.0: every interface, for a "
        "scraper on another machine or container).",
    )
    report_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Serve the operators' report (/report) on this port (off when unset); "
        "needs REPORT_TOKEN.",
    )
    report_host: str = Field(
        default="127.0.0.1",
        description="Interface the report server listens on (0.0.0.0: every interface, for a "
        "reverse proxy in another container).",
    )
    report_token: SecretStr | None = Field(
        default=None,
        description="Required with REPORT_PORT: the secret that opens the report (at least 16 "
        "characters), given once as ?token=… or as Authorization: Bearer ….",
    )
    webapp_url: str | None = Field(
        default=None,
        description="The https origin where the report server is reachable (behind a proxy): "
        "/report in private then opens the report inside Telegram (WEBAPP_URL/app) for a "
        "chat's administrators. Needs REPORT_PORT.",
    )

    webhook_url: str | None = Field(
        default=None,
        description="The public https URL Telegram posts updates to; when set, the bot serves "
        "webhooks on HOST:PORT instead of polling.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Required with WEBHOOK_URL: 1 to 256 characters of A-Z, a-z, 0-9, _ and -, "
        "sent by Telegram with every update.",
    )
    host: str = Field(default="0.0.0.0", description="Interface the webhook server listens on.")
    port: int = Field(
        default=8080, ge=1, le=65535, description="Port of the webhook server (and its /healthz)."
    )
    webhook_max_connections: int = Field(
        default=40, ge=1, le=100, description="Updates Telegram may deliver at once (1 to 100)."
    )

    def secrets(self) -> list[str]:
        """What must never be printed: the token, the webhook secret, the report's token and the
        database password."""
        password = make_url(self.database_url).password
        hidden = [self.bot_token.get_secret_value()]
        if self.webhook_secret is not None:
            hidden.append(self.webhook_secret.get_secret_value())
        if self.report_token is not None:
            hidden.append(self.report_token.get_secret_value())
        return [*hidden, *([str(password)] if password else [])]

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN_SHAPE.match(value.get_secret_value().strip()):
            raise ValueError("malformed")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("telegram_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        url = async_database_url(value)
        if not url.startswith(SUPPORTED_DATABASES):
            raise ValueError(
                "not supported: use sqlite:///path/to/agora.db or postgresql://user@host/db"
            )
        return url

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.strip().startswith(("https://", "http://")):
            raise ValueError("must be an https:// URL")
        return value.strip()

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET_SHAPE.match(value.get_secret_value()):
            raise ValueError("must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _secret_with_url(self) -> Settings:
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError("WEBHOOK_SECRET is not set (required with WEBHOOK_URL)")
        return self

    @field_validator("report_port", mode="before")
    @classmethod
    def _empty_is_off(cls, value: object) -> object:
        # docker-compose.yml writes REPORT_PORT empty when no REPORT_TOKEN is given.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("report_token")
    @classmethod
    def _report_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        token = value.get_secret_value().strip()
        if len(token) < 16 or not token.isascii() or not token.isprintable() or " " in token:
            raise ValueError("must be at least 16 printable ASCII characters, without spaces")
        return SecretStr(token)

    @model_validator(mode="after")
    def _report_token_with_port(self) -> Settings:
        if self.report_port is not None and self.report_token is None:
            raise ValueError("REPORT_TOKEN is not set (required with REPORT_PORT)")
        if self.webapp_url is not None and self.report_port is None:
            raise ValueError("WEBAPP_URL needs REPORT_PORT (the report server it opens)")
        return self

    @field_validator("webapp_url")
    @classmethod
    def _webapp_origin(cls, value: str | None) -> str | None:
        url = (value or "").strip().rstrip("/")
        if url and (not url.startswith("https://") or any(c in url for c in " ?#")):
            raise ValueError("must be an https:// address without a query (Mini Apps: https)")
        return url or None

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.strip().upper() not in LOG_LEVELS:
            raise ValueError("must be one of " + ", ".join(LOG_LEVELS))
        return value.strip().upper()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if time_zone(value) is None:
            raise ValueError("unknown IANA time zone")
        return value


def async_database_url(url: str) -> str:
    """Give a plain SQLAlchemy URL the asyncio driver this project ships with."""
    for plain, asynchronous in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return asynchronous + url[len(plain) :]
    return url


def load_settings(*, token_required: bool = True) -> Settings | None:
    """Read the settings, turning validation errors into one readable line without secrets.
    With `token_required` False (`python -m bot check`), a missing token alone is no error
    and gives None."""
    try:
        return Settings()  # type: ignore[call-arg]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            if error["type"] == "missing":
                if name != "BOT_TOKEN" or token_required:
                    problems.append(f"{name} is not set")
            elif not error["loc"]:  # a rule about several settings: its message names them
                problems.append(str(error["msg"]).removeprefix("Value error, "))
            elif name == "BOT_TOKEN":
                problems.append(
                    "BOT_TOKEN is malformed (expected <bot id>:<secret> from @BotFather)"
                )
            else:
                message = str(error["msg"]).removeprefix("Value error, ")
                problems.append(f"{name} is invalid: {message}")
        if problems:
            raise ConfigError("; ".join(problems)) from None
        return None


class _ArticlesSetting(BaseSettings):
    """ARTICLES_DIR alone, for the commands that need no token (check, new-article)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    articles_dir: Path = Settings.model_fields["articles_dir"].default


def articles_dir_setting() -> Path:
    """ARTICLES_DIR as the bot would read it, without requiring the other settings."""
    return _ArticlesSetting().articles_dir


def describe_settings() -> str:
    """The settings as a help text, for `python -m bot --help`."""
    lines = []
    for name, field in Settings.model_fields.items():
        default = "" if field.is_required() else f" (default: {written(field.get_default())})"
        lines.append(f"  {name.upper():<18} {field.description}{default}")
    return "\n".join(lines)


def written(value: object) -> str:
    """A default as one writes it in the environment: 09:00, true."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)
