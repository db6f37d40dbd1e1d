"""Process settings: environment variables and `.env`, validated once at start-up.

Every key is documented in `.env.example`. A bad value stops the bot with one readable line per
problem instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

IdList = Annotated[list[int], NoDecode]
HostList = Annotated[list[str], NoDecode]


class SettingsError(Exception):
    """Settings could not be loaded; `problems` holds one line per bad key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Settings(BaseSettings):
    """Everything the process needs to know before it connects anywhere."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    discord_token: SecretStr | None = None
    mongodb_uri: str | None = None
    database_name: str = Field("gems", pattern=r"^[A-Za-z0-9_-]{1,60}$")
    data_dir: Path = Path("data")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    owner_ids: IdList = []
    dev_guild_ids: IdList = []
    web_host: str = "127.0.0.1"
    web_port: int = Field(8080, ge=1, le=65535)
    auto_migrate: bool = False
    sync_commands_on_start: bool = False
    shard_count: int | None = Field(None, ge=1, le=1000)
    activity_flush_seconds: float = Field(10.0, gt=0, le=3600)
    # Challenge progress is written less often than earnings (/challenge today adds what is
    # still in memory, so members see live counts); see bench/challenges_bench.py.
    challenge_flush_seconds: float = Field(60.0, gt=0, le=3600)
    embedded_start_timeout: float = Field(20.0, gt=0, le=300)
    # Hosts the bot downloads listing images from (Discord's CDN); anything else is refused.
    attachment_hosts: HostList = ["cdn.discordapp.com", "media.discordapp.net"]

    @field_validator("discord_token", "mongodb_uri", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("owner_ids", "dev_guild_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        # "1, 2 3" from an env file; a list from code.
        if isinstance(value, str):
            parts = value.replace(",", " ").split()
            return [part for part in parts if part]
        return value

    @field_validator("attachment_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.replace(",", " ").split() if part]
        return value

    @field_validator("mongodb_uri")
    @classmethod
    def _mongo_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must start with mongodb:// or mongodb+srv://")
        return value

    @property
    def embedded(self) -> bool:
        """True when the bot runs its own embedded store."""
        return self.mongodb_uri is None


def load_settings(**overrides: object) -> Settings:
    """Load settings from the environment and `.env`, raising SettingsError on bad values."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"]) or "settings"
            problems.append(f"{key.upper()}: {error['msg']} (got {error.get('input')!r})")
        raise SettingsError(problems) from None
