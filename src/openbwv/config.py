"""Configuration from ``OPENBWV_*`` environment variables, defaulting to an embedded setup.

The embedded default is SQLite and local disk under ``OPENBWV_DATA_DIR``; production points
``OPENBWV_DATABASE_URL`` at PostgreSQL and ``OPENBWV_STORAGE_URL`` at an object store.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import secrets
from functools import cached_property
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "OPENBWV_"
SUPPORTED_DATABASE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")
SUPPORTED_STORAGE_SCHEMES = ("file", "s3")
SUPPORTED_MQTT_SCHEMES = ("mqtt", "mqtts")
SUPPORTED_MEDIAMTX_API_SCHEMES = ("http", "https")
MASTER_KEY_BYTES = 32


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(Exception):
    """Configuration that stops start-up; the message names the variable."""


def parse_networks(value: str) -> tuple[IPNetwork, ...]:
    """Comma-separated addresses or CIDR blocks (``10.0.0.0/8, ::1``); a bare address is one host."""
    networks = []
    for part in value.split(","):
        if part.strip():
            try:
                networks.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise ValueError(f"{part.strip()!r} is not an IP address or CIDR block") from None
    return tuple(networks)


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) readable by this user only; an existing folder is left as is."""
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.chmod(0o700)


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to a new file that is never readable by others, not even for a moment."""
    make_private_dir(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    path.chmod(0o600)


def parse_master_key(value: str) -> bytes:
    """A 256-bit key written as 64 hex digits or as base64 (standard or URL-safe alphabet)."""
    text = value.strip()
    if len(text) == 2 * MASTER_KEY_BYTES and all(c in "0123456789abcdefABCDEF" for c in text):
        return bytes.fromhex(text)
    try:
        key = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != MASTER_KEY_BYTES:
        raise ValueError(
            f"must be {MASTER_KEY_BYTES} random bytes written as {2 * MASTER_KEY_BYTES} hex digits or as base64"
        )
    return key


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str = ""
    # Connections each server or worker process keeps open to PostgreSQL (it may open twice as many
    # more under a burst); SQLite ignores it. Streamed uploads hold none, so this bounds concurrent
    # database work, not concurrent uploads.
    database_pool_size: int = Field(default=10, ge=1, le=200)
    storage_url: str = ""
    # The key that wraps each stored object's own key; keep it apart from the objects (and its
    # backup apart from theirs). Unset: made once into the data directory.
    storage_master_key: str = Field(default="", repr=False)
    secret_key: str = ""
    cookie_secure: bool = True
    token_ttl_minutes: int = Field(default=480, ge=1, le=7 * 24 * 60)
    login_max_failures: int = Field(default=5, ge=1)
    login_address_max_failures: int = Field(default=20, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    # Proxies whose X-Forwarded-For is believed; empty: the peer's own address is the client's.
    trusted_proxies: str = ""
    # Who may read /metrics: these addresses, or anyone sending this bearer token.
    metrics_allow: str = "127.0.0.0/8,::1"
    metrics_token: str = ""
    # The largest request body read from a signed-in caller (CSV imports are up to 64 MiB).
    max_body_mib: int = Field(default=65, ge=1)
    log_level: str = "INFO"
    force_name: str = "West Midlands Police"
    # The zone (IANA name) the pages show times in and read typed times in; stored and API times are UTC.
    time_zone: str = "Europe/London"
    # The region the Home Office tables of police figures place the force in.
    force_region: str = "West Midlands"
    # With PostgreSQL, `openbwv worker` processes run the jobs unless this puts one in the web app.
    run_worker_in_process: bool = False
    audit_log_origin: str = "openbwv.local/audit"
    audit_public_checkpoints: bool = True
    audit_public_entries: bool = False
    # A grant of access (a stated reason to view footage or live video) lasts this long unless its
    # holder asks otherwise, and never longer than the maximum (which also caps the usual length).
    access_grant_max_minutes: int = Field(default=24 * 60, ge=1, le=24 * 60)
    access_grant_minutes: int = Field(default=8 * 60, ge=1, le=24 * 60)
    # An Axis body worn system's Swift token lasts this long; it then signs in again with its credential.
    axis_token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    # Clip uploads from Axis systems at once in each server process; more are told to retry (503).
    axis_max_uploads: int = Field(default=16, ge=1)
    # What Axis objects may take up in all, in MiB (0: no quota); past it uploads answer 507.
    axis_quota_mib: int = Field(default=0, ge=0)
    # Resumable (tus) uploads from docks: the largest file accepted, announced as Tus-Max-Size, and how
    # long an unfinished upload is kept after its last bytes arrived before its parts are deleted.
    upload_max_gib: int = Field(default=64, ge=1, le=4096)
    upload_expiry_hours: int = Field(default=72, ge=1, le=30 * 24)
    # How long a clip the retention job deleted stays recoverable (hidden, bytes kept) before its
    # bytes are destroyed.
    footage_recovery_days: int = Field(default=7, ge=1, le=365)
    # The demo's simulated cameras: record short clips into the demo dock's folder (`openbwv demo`
    # turns this on; a real server never records).
    demo_cameras: bool = False
    # Live telemetry. With a broker URL (mqtt://host:1883, mqtts://user:password@host:8883) cameras
    # publish on MQTT; without one they POST to /api/v1/live/telemetry. The app consumes the broker
    # itself unless ``live_consume_in_app`` is off (then `openbwv live consume` processes do).
    mqtt_url: str = Field(default="", repr=False)
    live_consume_in_app: bool = True
    # With a broker, each app process keeps the map's latest state from its own subscription
    # (``openbwv.live.map_state``) rather than reading it from the database.
    live_map_from_broker: bool = True
    # The shared subscription's group: the broker hands each message to one consumer of the group.
    live_mqtt_group: str = Field(default="openbwv", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    # Positions are kept this many days, then pruned nightly.
    live_history_days: int = Field(default=31, ge=1, le=3650)
    # A message older than this (by the server's clock) is refused as stale.
    live_max_age_seconds: int = Field(default=300, ge=1, le=24 * 3600)
    # The map marks a camera stale when it has not been heard from for this long.
    live_stale_seconds: int = Field(default=120, ge=1, le=24 * 3600)
    # Live view: how long a view lasts before its viewer renews it, where the viewer's player reads
    # the stream (``{view_id}`` and ``{serial}`` filled in), and whether the officer's camera is told
    # it is being viewed (a force choice).
    live_view_minutes: int = Field(default=10, ge=1, le=24 * 60)
    live_stream_url: str = "/api/v1/live/views/{view_id}/stream"
    live_notify_camera: bool = False
    # MediaMTX's control API (http://127.0.0.1:9997), where openbwv closes a reader's session once its
    # live view ends, expires or is ended by professional standards. Empty: no media server, nothing
    # to close.
    mediamtx_api_url: str = ""
    # The live map's background: a slippy-map tile URL (https://tile.example/{z}/{x}/{y}.png, ``{s}``
    # for a subdomain), which the pages' security policy then lets images come from, and the credit
    # its provider asks for. Empty: no tiles; positions are drawn over a latitude/longitude grid.
    map_tile_url: str = ""
    map_tile_attribution: str = ""
    # Where the set-up installed the pages' browser libraries (npm's node_modules); unset: the
    # source checkout's own. Without them the live map lists positions but draws no map.
    node_modules: Path | None = None

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if value and urlparse(value).scheme not in SUPPORTED_DATABASE_SCHEMES:
            raise ValueError(f"the scheme must be one of {', '.join(SUPPORTED_DATABASE_SCHEMES)}")
        return value

    @field_validator("storage_url")
    @classmethod
    def _check_storage_url(cls, value: str) -> str:
        if value and urlparse(value).scheme not in SUPPORTED_STORAGE_SCHEMES:
            raise ValueError(f"the scheme must be one of {', '.join(SUPPORTED_STORAGE_SCHEMES)}")
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _check_mqtt_url(cls, value: str) -> str:
        if value:
            url = urlparse(value)
            if url.scheme not in SUPPORTED_MQTT_SCHEMES or not url.hostname:
                raise ValueError(f"must be {' or '.join(s + '://host:port' for s in SUPPORTED_MQTT_SCHEMES)}")
        return value

    @field_validator("mediamtx_api_url")
    @classmethod
    def _check_mediamtx_api_url(cls, value: str) -> str:
        if value:
            url = urlparse(value)
            try:
                port_ok = url.port is None or url.port > 0
            except ValueError:
                port_ok = False
            if url.scheme not in SUPPORTED_MEDIAMTX_API_SCHEMES or not url.hostname or not port_ok:
                raise ValueError(
                    "must be the http(s) address of MediaMTX's API, such as http://127.0.0.1:9997"
                )
            if url.query or url.fragment:
                raise ValueError("must be the address of MediaMTX's API alone, without a query or fragment")
        return value

    @field_validator("map_tile_url")
    @classmethod
    def _check_map_tile_url(cls, value: str) -> str:
        if value:
            url = urlparse(value)
            absolute = url.scheme in ("http", "https") and bool(url.netloc)
            if not (absolute or value.startswith("/")) or not all(p in value for p in ("{z}", "{x}", "{y}")):
                raise ValueError("must be an http(s) URL or a path on this site with {z}, {x} and {y}")
        return value

    @field_validator("storage_master_key")
    @classmethod
    def _check_storage_master_key(cls, value: str) -> str:
        if value:
            parse_master_key(value)
        return value

    @field_validator("audit_log_origin")
    @classmethod
    def _check_audit_log_origin(cls, value: str) -> str:
        # The origin is also the signing key's name, which signed notes restrict.
        if not value or "+" in value or any(c.isspace() or c < " " for c in value):
            raise ValueError("must be non-empty, without spaces, '+' or control characters")
        return value

    @field_validator("trusted_proxies", "metrics_allow")
    @classmethod
    def _check_networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    @field_validator("time_zone")
    @classmethod
    def _check_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not a known time zone; give an IANA name such as Europe/London"
            ) from None
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return level

    @cached_property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data directory."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{(self.data_dir / 'openbwv.sqlite3').resolve()}"

    @cached_property
    def resolved_storage_url(self) -> str:
        """The storage URL, defaulting to a folder in the data directory."""
        return self.storage_url or (self.data_dir / "storage").resolve().as_uri()

    @cached_property
    def zone(self) -> ZoneInfo:
        """The force's time zone, for pages."""
        return ZoneInfo(self.time_zone)

    @cached_property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.trusted_proxies)

    @cached_property
    def metrics_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.metrics_allow)

    @property
    def map_tile_source(self) -> str | None:
        """Where the map's tiles come from, as a Content Security Policy source (``{s}`` as ``*``);
        None when there are none or they come from this site."""
        url = urlparse(self.map_tile_url)
        if not url.netloc:
            return None
        return f"{url.scheme}://{url.netloc.replace('{s}', '*')}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @cached_property
    def resolved_secret_key(self) -> str:
        """The key for the form tokens' and typed usernames' HMACs: from the environment, else made
        once and kept in the data directory."""
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / "secret_key"
        if not key_file.exists():
            write_private_file(key_file, secrets.token_urlsafe(48))
        return key_file.read_text().strip()

    @cached_property
    def resolved_storage_master_key(self) -> bytes:
        """The storage master key: from the environment, else made once and kept in the data
        directory (where losing the data directory loses every stored object with it)."""
        if self.storage_master_key:
            return parse_master_key(self.storage_master_key)
        key_file = self.data_dir / "storage_master_key"
        if not key_file.exists():
            write_private_file(key_file, base64.b64encode(secrets.token_bytes(MASTER_KEY_BYTES)).decode())
        try:
            return parse_master_key(key_file.read_text())
        except ValueError as exc:
            raise ConfigError(f"The storage master key in {key_file} is damaged: it {exc}.") from None


def load_settings() -> Settings:
    """Read settings from the environment, turning a validation failure into one sentence."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        variable = ENV_PREFIX + str(first["loc"][0]).upper() if first["loc"] else ENV_PREFIX
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{variable} is invalid: {message}.") from exc
