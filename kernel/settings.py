"""Settings, parsed once from a mapping (the environment by default) and passed in explicitly.

Nothing else reads ``os.environ``: ``create_app`` and the CLI take a :class:`Settings`.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from kernel.money import MINOR_UNITS

_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d|w)?\s*$")
_UNITS = {
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)\s*$")


class SettingsError(ValueError):
    """A setting is malformed; the message names the variable and what it accepts."""


def parse_duration(text: str, name: str = "duration") -> timedelta:
    """Parse ``30s``, ``15m``, ``7d``, ``250ms``; a bare number means seconds."""
    match = _DURATION.match(text)
    if not match:
        raise SettingsError(f"{name}={text!r}: expected a duration such as 30s, 15m, 12h or 7d")
    return int(match.group(1)) * _UNITS[match.group(2) or "s"]


def parse_rate(text: str, name: str = "rate") -> tuple[int, str]:
    """Parse ``10/minute`` into ``(10, "minute")``."""
    match = _RATE.match(text)
    if not match or int(match.group(1)) < 1:
        raise SettingsError(f"{name}={text!r}: expected a rate such as 10/minute (second, minute, hour, day)")
    return int(match.group(1)), match.group(2)


def _parse_bool(text: str, name: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name}={text!r}: expected true or false")


def _parse_int(text: str, name: str, minimum: int = 0) -> int:
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"{name}={text!r}: expected a whole number") from None
    if value < minimum:
        raise SettingsError(f"{name}={text!r}: must be at least {minimum}")
    return value


def _positive(duration: timedelta, name: str) -> timedelta:
    if duration <= timedelta(0):
        raise SettingsError(f"{name}: must be longer than 0")
    return duration


def _currency(text: str) -> str:
    if text not in MINOR_UNITS:
        raise SettingsError(f"LIVECOMMERCE_CURRENCY={text!r}: use one of {', '.join(sorted(MINOR_UNITS))}")
    return text


@dataclass(frozen=True)
class DbSettings:
    url: str
    echo: bool = False
    pool_size: int = 10


@dataclass(frozen=True)
class AuthSettings:
    secret_key: str
    session_ttl: timedelta = timedelta(days=14)
    cookie_secure: bool = False
    login_rate: tuple[int, str] = (10, "minute")
    signup_rate: tuple[int, str] = (5, "minute")
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    # Failed sign-ins one account takes from browsers that never signed in to it, per lockout window.
    login_account_failures: int = 10
    login_lockout: timedelta = timedelta(minutes=15)
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or networks); none by default, so
    # a client cannot pick its own address for the rate limits.
    trusted_proxies: tuple[str, ...] = ()
    # How long a worker answers a token from memory (kernel/auth/cache.py); 0 asks the database every request.
    cache_ttl: timedelta = timedelta(seconds=30)


@dataclass(frozen=True)
class ShopSettings:
    currency: str = "USD"  # the one currency prices, orders and the ledger use
    ship_by: timedelta = timedelta(days=7)
    auto_confirm_after: timedelta = timedelta(days=30)
    dispute_window: timedelta = timedelta(days=15)
    sweep_interval: timedelta = timedelta(seconds=30)
    dispute_response: timedelta = timedelta(days=3)  # a seller silent this long sends the dispute to an admin
    attribution_window: timedelta = timedelta(days=7)  # how long a click may still earn its creator a sale
    # A checkout's charge intent still open this long after its last attempt was abandoned (a crash between the
    # charge and the commit, or a client that never retried): the reconciler voids its charge.
    reconcile_after: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class LiveSettings:
    tick: timedelta = timedelta(milliseconds=75)  # room events are coalesced into one frame per tick
    chat_burst: int = 5  # messages a user may send per ``chat_window``
    chat_window: timedelta = timedelta(seconds=10)
    chat_max_chars: int = 300
    chat_history: int = 50  # messages a joining client receives
    max_frame_bytes: int = 4096  # a larger client frame closes that socket
    # STUN/TURN servers handed to the pages, e.g. "stun:stun.example.org:3478,turn:user:pass@turn.example.org"
    ice_servers: tuple[str, ...] = ()
    # Host addresses ICE may offer (empty: every interface but loopback, aiortc's default)
    ice_host_addresses: tuple[str, ...] = ()
    # How long a broadcast's connection may stay failed before the room ends.
    publisher_grace: timedelta = timedelta(seconds=20)
    # How often a relaying process renews its liveness row; missing three renewals, it counts as gone and other
    # processes end its rooms (after ``publisher_grace``).
    relay_heartbeat: timedelta = timedelta(seconds=5)
    # Scaled shape: the base URL of this process when it is a media node, and the media nodes the app
    # sends new broadcasts to. Empty: media runs inside the app process (`serve --workers N`, N > 1, starts a
    # media process of its own and sets both for its processes).
    media_node_url: str | None = None
    media_nodes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommunitySettings:
    comment_burst: int = 5  # comments a user may post per ``comment_window``
    comment_window: timedelta = timedelta(minutes=1)
    feed_cap: int = 800  # entries kept per reader's feed in Redis
    trending_half_life: timedelta = timedelta(hours=24)


def _networks(text: str, name: str) -> tuple[str, ...]:
    """Comma-separated addresses or networks (``10.0.0.5``, ``10.0.0.0/8``, ``::1``), each checked."""
    found = _list(text)
    for item in found:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise SettingsError(f"{name}: {item!r} is not an IP address or network such as 10.0.0.0/8") from None
    return found


def _list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    db: DbSettings
    auth: AuthSettings
    redis_url: str | None = None
    data_dir: Path = Path("data")
    # Where clients reach the server, if it differs from the address requests arrive at (a proxy, a CDN); links
    # handed out (WHIP URLs, calendar events) otherwise follow the request's own address: see kernel.web.public_base.
    public_url: str | None = None
    max_body_bytes: int = 1024 * 1024
    log_level: str = "INFO"
    shop: ShopSettings = field(default_factory=ShopSettings)
    live: LiveSettings = field(default_factory=LiveSettings)
    community: CommunitySettings = field(default_factory=CommunitySettings)

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"


def _secret_key(env: Mapping[str, str], data_dir: Path) -> str:
    """The signing secret: from the environment, else one kept in the data folder.

    Keeping it on disk lets every worker of one embedded install agree on it, and sessions survive restarts.
    """
    if key := env.get("LIVECOMMERCE_SECRET_KEY"):
        if len(key) < 32:
            raise SettingsError("LIVECOMMERCE_SECRET_KEY must be at least 32 characters")
        return key
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings(env: Mapping[str, str] = os.environ) -> Settings:
    """Build :class:`Settings` from ``env``; raise :class:`SettingsError` naming the first bad variable."""

    def get(name: str, default: str) -> str:
        return env.get(name, default)

    data_dir = Path(get("LIVECOMMERCE_DATA_DIR", "data"))
    public_url = get("LIVECOMMERCE_PUBLIC_URL", "").rstrip("/") or None
    db_url = env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'livecommerce.db'}"
    if not db_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise SettingsError(
            f"DATABASE_URL={db_url!r}: use sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db"
        )
    redis_url = env.get("REDIS_URL") or None
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(f"REDIS_URL={redis_url!r}: use redis://host:port/db")

    secure_default = "true" if public_url and public_url.startswith("https://") else "false"
    return Settings(
        db=DbSettings(
            url=db_url,
            echo=_parse_bool(get("LIVECOMMERCE_DB_ECHO", "false"), "LIVECOMMERCE_DB_ECHO"),
            pool_size=_parse_int(get("LIVECOMMERCE_DB_POOL_SIZE", "10"), "LIVECOMMERCE_DB_POOL_SIZE", 1),
        ),
        auth=AuthSettings(
            secret_key=_secret_key(env, data_dir),
            session_ttl=parse_duration(get("LIVECOMMERCE_SESSION_TTL", "14d"), "LIVECOMMERCE_SESSION_TTL"),
            cookie_secure=_parse_bool(get("LIVECOMMERCE_COOKIE_SECURE", secure_default), "LIVECOMMERCE_COOKIE_SECURE"),
            login_rate=parse_rate(get("LIVECOMMERCE_LOGIN_RATE", "10/minute"), "LIVECOMMERCE_LOGIN_RATE"),
            signup_rate=parse_rate(get("LIVECOMMERCE_SIGNUP_RATE", "5/minute"), "LIVECOMMERCE_SIGNUP_RATE"),
            password_time_cost=_parse_int(
                get("LIVECOMMERCE_PASSWORD_TIME_COST", "3"), "LIVECOMMERCE_PASSWORD_TIME_COST", 1
            ),
            password_memory_kib=_parse_int(
                get("LIVECOMMERCE_PASSWORD_MEMORY_KIB", "65536"), "LIVECOMMERCE_PASSWORD_MEMORY_KIB", 1024
            ),
            login_account_failures=_parse_int(
                get("LIVECOMMERCE_LOGIN_ACCOUNT_FAILURES", "10"), "LIVECOMMERCE_LOGIN_ACCOUNT_FAILURES", 1
            ),
            login_lockout=parse_duration(get("LIVECOMMERCE_LOGIN_LOCKOUT", "15m"), "LIVECOMMERCE_LOGIN_LOCKOUT"),
            trusted_proxies=_networks(get("LIVECOMMERCE_TRUSTED_PROXIES", ""), "LIVECOMMERCE_TRUSTED_PROXIES"),
            cache_ttl=parse_duration(get("LIVECOMMERCE_AUTH_CACHE_TTL", "30s"), "LIVECOMMERCE_AUTH_CACHE_TTL"),
        ),
        redis_url=redis_url,
        data_dir=data_dir,
        public_url=public_url,
        max_body_bytes=_parse_int(
            get("LIVECOMMERCE_MAX_BODY_BYTES", str(1024 * 1024)), "LIVECOMMERCE_MAX_BODY_BYTES", 1024
        ),
        log_level=get("LIVECOMMERCE_LOG_LEVEL", "INFO").upper(),
        shop=ShopSettings(
            currency=_currency(get("LIVECOMMERCE_CURRENCY", "USD")),
            ship_by=parse_duration(get("LIVECOMMERCE_SHIP_BY", "7d"), "LIVECOMMERCE_SHIP_BY"),
            auto_confirm_after=parse_duration(
                get("LIVECOMMERCE_AUTO_CONFIRM_AFTER", "30d"), "LIVECOMMERCE_AUTO_CONFIRM_AFTER"
            ),
            dispute_window=parse_duration(get("LIVECOMMERCE_DISPUTE_WINDOW", "15d"), "LIVECOMMERCE_DISPUTE_WINDOW"),
            sweep_interval=parse_duration(get("LIVECOMMERCE_SWEEP_INTERVAL", "30s"), "LIVECOMMERCE_SWEEP_INTERVAL"),
            dispute_response=parse_duration(
                get("LIVECOMMERCE_DISPUTE_RESPONSE", "3d"), "LIVECOMMERCE_DISPUTE_RESPONSE"
            ),
            attribution_window=parse_duration(
                get("LIVECOMMERCE_ATTRIBUTION_WINDOW", "7d"), "LIVECOMMERCE_ATTRIBUTION_WINDOW"
            ),
            reconcile_after=parse_duration(get("LIVECOMMERCE_RECONCILE_AFTER", "5m"), "LIVECOMMERCE_RECONCILE_AFTER"),
        ),
        live=LiveSettings(
            tick=parse_duration(get("LIVECOMMERCE_ROOM_TICK", "75ms"), "LIVECOMMERCE_ROOM_TICK"),
            chat_burst=_parse_int(get("LIVECOMMERCE_CHAT_BURST", "5"), "LIVECOMMERCE_CHAT_BURST", 1),
            chat_window=parse_duration(get("LIVECOMMERCE_CHAT_WINDOW", "10s"), "LIVECOMMERCE_CHAT_WINDOW"),
            chat_max_chars=_parse_int(get("LIVECOMMERCE_CHAT_MAX_CHARS", "300"), "LIVECOMMERCE_CHAT_MAX_CHARS", 1),
            chat_history=_parse_int(get("LIVECOMMERCE_CHAT_HISTORY", "50"), "LIVECOMMERCE_CHAT_HISTORY"),
            max_frame_bytes=_parse_int(
                get("LIVECOMMERCE_MAX_FRAME_BYTES", "4096"), "LIVECOMMERCE_MAX_FRAME_BYTES", 256
            ),
            ice_servers=_list(get("LIVECOMMERCE_ICE_SERVERS", "")),
            ice_host_addresses=_list(get("LIVECOMMERCE_ICE_HOST_ADDRESSES", "")),
            publisher_grace=parse_duration(get("LIVECOMMERCE_PUBLISHER_GRACE", "20s"), "LIVECOMMERCE_PUBLISHER_GRACE"),
            relay_heartbeat=_positive(
                parse_duration(get("LIVECOMMERCE_RELAY_HEARTBEAT", "5s"), "LIVECOMMERCE_RELAY_HEARTBEAT"),
                "LIVECOMMERCE_RELAY_HEARTBEAT",
            ),
            media_node_url=(get("LIVECOMMERCE_MEDIA_NODE_URL", "").rstrip("/") or None),
            media_nodes=tuple(url.rstrip("/") for url in _list(get("LIVECOMMERCE_MEDIA_NODES", ""))),
        ),
        community=CommunitySettings(
            comment_burst=_parse_int(get("LIVECOMMERCE_COMMENT_BURST", "5"), "LIVECOMMERCE_COMMENT_BURST", 1),
            comment_window=parse_duration(get("LIVECOMMERCE_COMMENT_WINDOW", "1m"), "LIVECOMMERCE_COMMENT_WINDOW"),
            feed_cap=_parse_int(get("LIVECOMMERCE_FEED_CAP", "800"), "LIVECOMMERCE_FEED_CAP", 10),
            trending_half_life=parse_duration(
                get("LIVECOMMERCE_TRENDING_HALF_LIFE", "24h"), "LIVECOMMERCE_TRENDING_HALF_LIFE"
            ),
        ),
    )
