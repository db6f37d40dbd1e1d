"""Process settings: environment variables and `.env`, validated once at start-up.

Every key is documented in `.env.example`. A bad value stops the bot with one readable line per
problem instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

IdList = Annotated[list[int], NoDecode]
HostList = Annotated[list[str], NoDecode]
ChainUrls = Annotated[dict[int, str], NoDecode]


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
    # Only for `./gems invite` when no token is set (the token's first part encodes it).
    discord_application_id: int | None = Field(None, ge=1)
    mongodb_uri: str | None = None
    database_name: str = Field("gems", pattern=r"^[A-Za-z0-9_-]{1,60}$")
    # Runtime data (embedded database, its socket, backups, logs); data/ is shipped content.
    data_dir: Path = Path("var")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one object per line, with ids
    owner_ids: IdList = []
    dev_guild_ids: IdList = []
    web_host: str = "127.0.0.1"
    web_port: int = Field(8080, ge=0, le=65535)  # 0: any free port (tests)
    # Apply pending migrations at start-up. Unset: yes on the embedded store (after a backup),
    # no on MongoDB (run `./gems migrate`, or set it true: with several processes, only the
    # holder of the `migrations` lease applies them; the others wait).
    auto_migrate: bool | None = None
    shard_count: int | None = Field(None, ge=1, le=1000)
    activity_flush_seconds: float = Field(10.0, gt=0, le=3600)
    # Challenge progress is written less often than earnings (/challenge today adds what is
    # still in memory, so members see live counts); see bench/challenges_bench.py.
    challenge_flush_seconds: float = Field(60.0, gt=0, le=3600)
    embedded_start_timeout: float = Field(20.0, gt=0, le=300)
    # Hosts the bot downloads listing images from (Discord's CDN); anything else is refused.
    attachment_hosts: HostList = ["cdn.discordapp.com", "media.discordapp.net"]
    # --- wallets and NFT roles
    # The address members reach the web server at (behind a reverse proxy), e.g. https://gems.example.org
    public_url: str | None = None
    # JSON-RPC endpoint per chain id: "1=https://eth.example/rpc, 8453=https://base.example/rpc".
    chain_rpc_urls: ChainUrls = {}
    # Multicall3-compatible aggregator (aggregate3) used for batched reads on every chain.
    multicall3_address: str = Field("0xcA11bde05977b3631167028862bE2a173976CA11",
                                    pattern=r"^0x[0-9a-fA-F]{40}$")
    chain_timeout_seconds: float = Field(10.0, gt=0, le=120)
    # One budget for all RPC waits of one NFT sync (a hanging node stops it after the first timeout).
    chain_sync_deadline_seconds: float = Field(20.0, gt=0, le=600)
    # Hosts token metadata and images may be fetched from for /wallet gallery (plus the gateway).
    nft_media_hosts: HostList = ["ipfs.io", "arweave.net"]
    ipfs_gateway: str = Field("https://ipfs.io", pattern=r"^https?://[A-Za-z0-9.:-]+/?$")
    # --- several processes (MongoDB only): shards served here, scheduler lease, guild work
    # Shards this process runs, e.g. "0,1" of SHARD_COUNT=4 (unset: all of them).
    shard_ids: IdList = []
    # Seconds a scheduler leader's lease lasts without renewal (it renews every third of it);
    # after a crash another process leads within this time.
    lease_seconds: float = Field(30.0, ge=1, le=600)
    # How often each process picks up guild work (announcements, DMs) handed to its shards.
    outbox_poll_seconds: float = Field(5.0, gt=0, le=600)
    # --- card payments (Stripe); the keys are never logged (SecretStr, shape checked here)
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    # Only for tests and the offline demo (a local API double); unset = api.stripe.com.
    stripe_api_base: str | None = Field(None, pattern=r"^https?://[A-Za-z0-9.:\[\]-]+/?$")
    # --- ledger group commit (economy/repos/ledger_writer.py): balance changes of this process are
    # committed together, up to LEDGER_BATCH_MAX per transaction (1 = one transaction each),
    # waiting at most LEDGER_BATCH_WAIT_MS for company while requests are arriving.
    ledger_batch_max: int = Field(256, ge=1, le=10_000)
    ledger_batch_wait_ms: float = Field(2.0, ge=0, le=1000)
    # --- the web dashboard (PUBLIC_URL/dashboard): the Discord application's OAuth2 client id and
    # secret (developer portal, OAuth2 page) and a random secret that signs the session cookies.
    # All three set: the dashboard is on; none: off.
    dashboard_client_id: int | None = Field(None, ge=1)
    dashboard_client_secret: SecretStr | None = None
    dashboard_session_secret: SecretStr | None = None

    @field_validator("discord_token", "discord_application_id", "mongodb_uri", "shard_count",
                     "auto_migrate", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("dashboard_client_id", "dashboard_client_secret",
                     "dashboard_session_secret", mode="before")
    @classmethod
    def _blank_dashboard(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("dashboard_session_secret")
    @classmethod
    def _session_secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("use at least 32 random characters (e.g. `openssl rand -hex 32`)")
        return value

    @model_validator(mode="after")
    def _dashboard_all_or_none(self) -> Settings:
        given = [self.dashboard_client_id is not None, self.dashboard_client_secret is not None,
                 self.dashboard_session_secret is not None]
        if any(given) and not all(given):
            raise ValueError("set DASHBOARD_CLIENT_ID, DASHBOARD_CLIENT_SECRET and "
                             "DASHBOARD_SESSION_SECRET together, or none of them")
        return self

    @property
    def dashboard_enabled(self) -> bool:
        """True when the web dashboard's three settings are given."""
        return self.dashboard_session_secret is not None

    @field_validator("stripe_secret_key", "stripe_webhook_secret", "stripe_api_base",
                     mode="before")
    @classmethod
    def _blank_stripe(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("stripe_secret_key")
    @classmethod
    def _stripe_key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        from economy.payments.stripe_gateway import check_secret_key

        if value is not None:
            check_secret_key(value.get_secret_value())
        return value

    @field_validator("stripe_webhook_secret")
    @classmethod
    def _stripe_webhook_shape(cls, value: SecretStr | None) -> SecretStr | None:
        from economy.payments.stripe_gateway import check_webhook_secret

        if value is not None:
            check_webhook_secret(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _stripe_pair(self) -> Settings:
        if (self.stripe_secret_key is None) != (self.stripe_webhook_secret is None):
            raise ValueError("set both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, or neither")
        return self

    def stripe_gateway(self):
        """The Stripe gateway when both keys are set (None otherwise: payments are off)."""
        if self.stripe_secret_key is None or self.stripe_webhook_secret is None:
            return None
        from economy.payments.stripe_gateway import StripeGateway

        return StripeGateway(self.stripe_secret_key.get_secret_value(),
                             self.stripe_webhook_secret.get_secret_value(),
                             api_base=self.stripe_api_base)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("owner_ids", "dev_guild_ids", "shard_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        # "1, 2 3" from an env file; a list from code.
        if isinstance(value, str):
            parts = value.replace(",", " ").split()
            return [part for part in parts if part]
        return value

    @field_validator("attachment_hosts", "nft_media_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.replace(",", " ").split() if part]
        return value

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().rstrip("/") or None
        if isinstance(value, str) and not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for local testing)")
        return value

    @field_validator("chain_rpc_urls", mode="before")
    @classmethod
    def _chain_urls(cls, value: object) -> object:
        # "1=https://a, 8453=https://b" from an env file; a dict from code.
        if not isinstance(value, str):
            return value
        urls: dict[int, str] = {}
        for part in value.replace(",", " ").split():
            chain, sep, url = part.partition("=")
            if not sep or not chain.strip().isdigit() or not url.startswith(("http://", "https://")):
                raise ValueError(f"expected CHAIN_ID=https://... entries, got {part!r}")
            urls[int(chain)] = url
        return urls

    def nft_service_options(self) -> dict:
        """build_services keywords for wallets and NFT roles (chains, media hosts, gateway)."""
        from urllib.parse import urlsplit

        gateway_host = (urlsplit(self.ipfs_gateway).hostname or "").lower()
        hosts = list(dict.fromkeys([*self.nft_media_hosts, gateway_host]))
        return {"chains": self.chain_registry(), "nft_media_hosts": hosts,
                "ipfs_gateway": self.ipfs_gateway}

    def ledger_options(self) -> dict:
        """build_services keywords for the ledger's group commit."""
        return {"ledger_batch_max": self.ledger_batch_max,
                "ledger_batch_wait_ms": self.ledger_batch_wait_ms}

    def chain_registry(self):
        """The chains the bot can read, from CHAIN_RPC_URLS / MULTICALL3_ADDRESS."""
        from economy.nft.chain import ChainRegistry

        return ChainRegistry(urls=dict(self.chain_rpc_urls), aggregator=self.multicall3_address,
                             timeout=self.chain_timeout_seconds,
                             sync_deadline=self.chain_sync_deadline_seconds)

    @field_validator("mongodb_uri")
    @classmethod
    def _mongo_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must start with mongodb:// or mongodb+srv://")
        return value

    @model_validator(mode="after")
    def _shard_slice(self) -> Settings:
        if self.shard_ids:
            if self.shard_count is None:
                raise ValueError("SHARD_IDS needs SHARD_COUNT (the total over all processes)")
            bad = [i for i in self.shard_ids if i >= self.shard_count]
            if bad or len(set(self.shard_ids)) != len(self.shard_ids):
                raise ValueError(f"SHARD_IDS must be distinct numbers below SHARD_COUNT "
                                 f"({self.shard_count}); got {self.shard_ids}")
            if self.mongodb_uri is None and len(self.shard_ids) < self.shard_count:
                raise ValueError(
                    "SHARD_IDS runs only some shards, so other processes must run the rest, and "
                    "several processes need MongoDB (MONGODB_URI): the embedded store serves one "
                    "process only")
        return self

    @property
    def embedded(self) -> bool:
        """True when the bot runs its own embedded store."""
        return self.mongodb_uri is None

    @property
    def migrates_at_start(self) -> bool:
        """True when `run` applies pending migrations itself (AUTO_MIGRATE; unset: embedded)."""
        return self.embedded if self.auto_migrate is None else self.auto_migrate


def _shown_input(key: str, value: object) -> str:
    """What a settings error may echo: never a token or secret, URIs with the password masked."""
    from bot.startup_errors import mask_secrets

    if any(word in key.lower() for word in ("token", "secret", "password", "key")):
        return "value hidden"
    return f"got {mask_secrets(value)!r}" if isinstance(value, str) else f"got {value!r}"


def load_settings(**overrides: object) -> Settings:
    """Load settings from the environment and `.env`, raising SettingsError on bad values."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"]) or "settings"
            # A model-level error's input is every setting, token included: never echo it.
            got = f" ({_shown_input(key, error.get('input'))})" if error["loc"] else ""
            problems.append(f"{key.upper()}: {error['msg']}{got}")
        raise SettingsError(problems) from None
