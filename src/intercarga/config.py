"""Configuration: ``intercarga.toml`` overridden by ``INTERCARGA_*`` environment variables.

Precedence, highest first: values given on the command line, environment variables, the TOML
file, defaults. Every default works, so nothing needs configuring to run. This module reads
files and the environment and nothing else; it must never open a database or a socket.
"""

from __future__ import annotations

import os
import re
import socket
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from intercarga.errors import ConfigurationError

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "ClusterSettings",
    "HttpSettings",
    "LogFormat",
    "OcpiParty",
    "OcpiSettings",
    "OcppSettings",
    "RegistrySettings",
    "Settings",
    "UnknownStationPolicy",
    "load_settings",
]

DEFAULT_CONFIG_FILE: Final = Path("intercarga.toml")


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class UnknownStationPolicy(StrEnum):
    """What the OCPP endpoint does with a station id it has no record of."""

    REJECT = "reject"  # handshake refused with 404
    PENDING = "pending"  # connects without credentials; BootNotification answered Pending
    ACCEPT = "accept"  # auto-registered on boot (demos only)


class OcppSettings(BaseModel):
    """The OCPP WebSocket endpoint (``[ocpp]`` in the TOML file, ``INTERCARGA_OCPP__*``)."""

    model_config = ConfigDict(extra="forbid")

    ping_interval: float = Field(default=30, ge=0, description="seconds; 0 turns pings off")
    ping_timeout: float = Field(default=30, gt=0)
    max_frame_size: int = Field(
        default=65536, ge=1024, description="bytes; a larger frame closes the connection (1009)"
    )
    handshake_timeout: float = Field(
        default=10,
        gt=0,
        description="seconds a new connection has to finish its WebSocket handshake, authentication"
        " included (and its TLS handshake, separately)",
    )
    pending_handshakes: int = Field(
        default=1024, ge=1, description="connections still in their handshake, from all addresses"
    )
    pending_handshakes_per_address: int = Field(
        default=256,
        ge=1,
        description="connections still in their handshake from one address (a NAT may hide many"
        " stations; connected stations do not count)",
    )
    call_timeout: float = Field(default=30, gt=0, description="seconds a CSMS call waits")
    unknown_stations: UnknownStationPolicy = UnknownStationPolicy.REJECT
    heartbeat_interval: int = Field(default=300, ge=1, description="seconds, told at boot")
    transaction_timeout: float = Field(
        default=48,
        gt=0,
        description="hours without any message about an open transaction before the CSMS closes it",
    )
    master_pass_groups: list[str] = Field(
        default_factory=list,
        description="group ids whose tokens may stop any session (never start one)",
    )
    auth_failures_allowed: int = Field(
        default=10,
        ge=1,
        description="failed handshakes per address and station id per minute before 429",
    )
    tls_certificate: Path | None = Field(default=None, description="PEM; enables wss://")
    tls_private_key: Path | None = None
    tls_client_ca: Path | None = Field(
        default=None, description="PEM of the CAs that sign station certificates (profile 3)"
    )
    station_ca_certificate: Path | None = Field(
        default=None,
        description="PEM of the CA that signs station certificates from their CSRs (SignCertificate);"
        " list it in tls_client_ca too, so the certificates it signs open security profile 3",
    )
    station_ca_key: Path | None = Field(
        default=None, description="PEM key of station_ca_certificate"
    )


class HttpSettings(BaseModel):
    """Limits of the HTTP listener (``[http]`` in the TOML file, ``INTERCARGA_HTTP__*``)."""

    model_config = ConfigDict(extra="forbid")

    header_timeout: float = Field(
        default=10,
        gt=0,
        description="seconds a connection has to send a complete request head, from its"
        " opening or from the end of the previous response",
    )
    keep_alive_timeout: int = Field(
        default=5, ge=1, description="seconds an idle kept-alive connection stays open"
    )
    body_timeout: float = Field(
        default=30, gt=0, description="seconds a request body may send nothing before 408"
    )
    max_body_size: int = Field(
        default=1_048_576, ge=1024, description="bytes; a larger request body is answered 413"
    )
    pending_connections: int = Field(
        default=1024,
        ge=1,
        description="connections yet to send their first request head, from all addresses",
    )
    pending_connections_per_address: int = Field(
        default=128,
        ge=1,
        description="connections yet to send their first request head, per address",
    )
    rate_limit: float = Field(
        default=100, ge=0, description="requests a second per client address (0: no limit)"
    )
    rate_burst: int = Field(
        default=200, ge=1, description="requests an address may make at once above rate_limit"
    )


class OcpiParty(BaseModel):
    """One OCPI party this deployment hosts: country code + party id + role."""

    model_config = ConfigDict(extra="forbid")

    country_code: str = Field(pattern=r"^[A-Z]{2}$")
    party_id: str = Field(pattern=r"^[A-Z0-9]{3}$")
    role: str = Field(pattern=r"^(CPO|EMSP|HUB|NAP)$")
    name: str = Field(min_length=1, max_length=100)
    website: str | None = Field(default=None, max_length=255)


def _default_parties() -> list[OcpiParty]:
    return [
        OcpiParty(country_code="CL", party_id="ICG", role="CPO", name="Intercarga"),
        OcpiParty(country_code="CL", party_id="ICG", role="EMSP", name="Intercarga"),
    ]


class OcpiSettings(BaseModel):
    """OCPI roaming (``[ocpi]`` in the TOML file, ``INTERCARGA_OCPI__*``)."""

    model_config = ConfigDict(extra="forbid")

    parties: list[OcpiParty] = Field(default_factory=_default_parties, min_length=1)
    versions: list[str] = Field(
        default_factory=lambda: ["2.3.0", "2.2.1", "2.1.1"],
        min_length=1,
        description="OCPI versions offered to partners",
    )
    max_page_size: int = Field(default=100, ge=1, le=1000, description="X-Limit of list GETs")
    request_timeout: float = Field(
        default=15, gt=0, description="seconds a call to a partner waits"
    )
    push_retry_first: float = Field(
        default=2, gt=0, description="seconds before a failed push to a partner is tried again"
    )
    push_retry_max: float = Field(
        default=600, gt=0, description="seconds: the longest wait between tries of a push"
    )
    authorization_retention_days: int = Field(
        default=90,
        ge=1,
        description="days each real-time authorization's outcome is kept (the assessment's"
        " service indicator reads them)",
    )
    allow_http_partner_urls: bool = Field(
        default=False,
        description="call partner URLs over plain http:// too (tests, demos, a private network);"
        " otherwise only https://",
    )
    allow_private_partner_urls: bool = Field(
        default=False,
        description="call partner URLs whose host is loopback, private or link-local (tests,"
        " demos, partners on the operator's own network)",
    )


class RegistrySettings(BaseModel):
    """The national access point (``[registry]``; used when a NAP party is hosted)."""

    model_config = ConfigDict(extra="forbid")

    pull_interval: float = Field(
        default=300,
        ge=0,
        description="seconds between pulls of registered CPOs' changed Locations and Tariffs"
        " (date_from); 0: only the full pull after registration",
    )
    reliability_threshold: float = Field(
        default=0.99,
        gt=0,
        le=1,
        description="CPOs whose reliability (UK formula) is below this are listed",
    )
    rules: dict[str, dict[str, float | bool | str | list[str]]] = Field(
        default_factory=dict,
        description="per country (ISO alpha-2, or 'default'), fields of the reporting rule to"
        " override: status_window_s, stale_after_s, realtime_prices, mandatory",
    )


def default_node_id() -> str:
    """This host's name and this process's id, in the characters a NATS subject token allows."""
    host = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname()) or "node"
    return f"{host}-{os.getpid()}"


class ClusterSettings(BaseModel):
    """Several nodes on one PostgreSQL and one NATS (``[cluster]``, ``INTERCARGA_CLUSTER__*``).

    Without ``nats_url`` the process is a single node: nothing here is used.
    """

    model_config = ConfigDict(extra="forbid")

    nats_url: str | None = Field(
        default=None,
        description="nats://host:4222 (comma-separated for several servers) of a NATS with"
        " JetStream; unset: a single node, in-process",
    )
    node_id: str = Field(
        default_factory=default_node_id,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="this node's name in the cluster; default: host name and process id",
    )
    name: str = Field(
        default="intercarga",
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="the cluster's name: prefix of its NATS subjects, key-value bucket and"
        " stream, so several clusters can share one NATS",
    )
    lease: float = Field(
        default=15,
        ge=1,
        description="seconds a node's claim on a station's connection lasts unless renewed"
        " (renewed every third of it while connected)",
    )
    command_timeout: float = Field(
        default=60,
        gt=0,
        description="seconds a command sent to a station held by another node waits in all",
    )

    @field_validator("nats_url")
    @classmethod
    def _nats_scheme(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        for server in value.split(","):
            if not server.strip().startswith(("nats://", "tls://")):
                raise ValueError("each server must start with nats:// or tls://")
        return value


class Settings(BaseSettings):
    """The effective configuration of one Intercarga process."""

    model_config = SettingsConfigDict(
        env_prefix="INTERCARGA_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    database_url: SecretStr = Field(
        default=SecretStr("sqlite+aiosqlite:///./intercarga.db"),
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://…",
    )
    database_schema: str | None = Field(
        default=None,
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="PostgreSQL schema to use instead of the search_path default",
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    ocpp_host: str = "127.0.0.1"
    ocpp_port: int = Field(default=9000, ge=0, le=65535)
    log_format: LogFormat = LogFormat.TEXT
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")
    admin_token: SecretStr | None = Field(
        default=None, description="Bearer token of the admin API; generated on first start if unset"
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000", description="Base URL partners and users reach HTTP at"
    )
    http: HttpSettings = Field(default_factory=HttpSettings)
    ocpp: OcppSettings = Field(default_factory=OcppSettings)
    ocpi: OcpiSettings = Field(default_factory=OcpiSettings)
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    stop_timeout: float = Field(
        default=10,
        gt=0,
        description="seconds serve takes at most to stop after SIGTERM or SIGINT; what still waits"
        " then (a database or partner that does not answer) is abandoned, never anything"
        " acknowledged",
    )
    seed_example_network: bool = Field(
        default=False, description="Load the small example network on start when the store is empty"
    )
    seed_network: Path | None = Field(
        default=None,
        description="A network file in the example network's format to load on start when the "
        "store is empty (instead of the example network)",
    )
    assessment_data: Path | None = Field(
        default=None,
        description="Folder of country files (XX.toml) for the assessment; the package's own "
        "data/countries when unset",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _supported_driver(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
                f" (got {url.split('://')[0]!r})"
            )
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file is passed in as init values by load_settings (below) so that its errors
        # carry the file name; here it only needs to rank below the environment.
        return (init_settings, env_settings)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.get_secret_value().startswith("sqlite")

    def masked(self) -> dict[str, Any]:
        """The configuration as plain values with every secret and URL password masked."""
        shown: dict[str, Any] = self.model_dump(mode="json")
        url = self.database_url.get_secret_value()
        shown["database_url"] = _mask_url_password(url)
        shown["admin_token"] = None if self.admin_token is None else "********"
        if self.cluster.nats_url is not None:
            shown["cluster"]["nats_url"] = ",".join(
                _mask_url_password(server) for server in self.cluster.nats_url.split(",")
            )
        return shown


def _mask_url_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:********@{host}"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as error:
        raise ConfigurationError(f"cannot read {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{path}: not valid TOML: {error}") from None


def _describe(error: ValidationError, origin: dict[str, str]) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "configuration"
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown setting"
    where = origin.get(str(first["loc"][0]) if first["loc"] else "", "")
    value = first.get("input")
    shown = (
        "" if first["type"] == "extra_forbidden" or isinstance(value, dict) else f" (got {value!r})"
    )
    if key == "database_url" or "token" in key:
        shown = ""
    return f"{where}{key}: {message}{shown}"


def load_settings(
    config_file: Path | None = None, overrides: dict[str, Any] | None = None
) -> Settings:
    """Read the configuration; raise :class:`ConfigurationError` naming the bad key.

    ``config_file`` falls back to ``$INTERCARGA_CONFIG`` and then to ``./intercarga.toml`` when
    that exists. A file named explicitly must exist.
    """
    path = config_file
    if path is None and os.environ.get("INTERCARGA_CONFIG"):
        path = Path(os.environ["INTERCARGA_CONFIG"])
    if path is None and DEFAULT_CONFIG_FILE.exists():
        path = DEFAULT_CONFIG_FILE
    values: dict[str, Any] = _read_toml(path) if path is not None else {}
    environment = [
        key.removeprefix("INTERCARGA_").lower().split("__")
        for key in os.environ
        if key.startswith("INTERCARGA_") and key != "INTERCARGA_CONFIG"
    ]
    origin = {key: f"{path}: " for key in values}
    for parts in environment:
        origin[parts[0]] = "INTERCARGA_" + "__".join(parts).upper() + ": "
        # The environment beats the file, one key at a time (nested tables merge).
        table: Any = values
        for part in parts[:-1]:
            table = table.get(part) if isinstance(table, dict) else None
        if isinstance(table, dict):
            table.pop(parts[-1], None)
    values.update({key: value for key, value in (overrides or {}).items() if value is not None})
    for key in overrides or {}:
        origin[key] = "--" + key.replace("_", "-") + ": "
    try:
        return Settings(**values)
    except ValidationError as error:
        raise ConfigurationError(_describe(error, origin)) from None
