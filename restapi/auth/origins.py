"""The site's public origins: the only places mail links point at, and the only pages that may make
cookie requests.

``RESTAPI_PUBLIC_URL`` is the primary origin and ``RESTAPI_PUBLIC_ORIGINS`` adds more (one per brand
or domain). A request's ``Host`` only picks one of them; a host that is not listed gets the primary
origin, and nothing is ever built from ``Host``, ``X-Forwarded-Host`` or ``Forwarded``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from restapi.config import RestSettings
from shared.config import ConfigError


def normalise(value: str, name: str) -> str:
    """``scheme://host[:port]`` in lower case, or ConfigError naming the variable."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(f"{name}: expected an origin such as https://book.example.com, got {value!r}")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{name}: bad port in {value!r}") from None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


@dataclass(frozen=True, slots=True)
class PublicOrigins:
    """The configured origins, primary first (empty: none configured, so no link is ever mailed)."""

    origins: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: RestSettings) -> PublicOrigins:
        found: list[str] = []
        if settings.public_url:
            found.append(normalise(settings.public_url, "RESTAPI_PUBLIC_URL"))
        for value in settings.public_origins:
            origin = normalise(value, "RESTAPI_PUBLIC_ORIGINS")
            if origin not in found:
                found.append(origin)
        return cls(tuple(found))

    @property
    def primary(self) -> str | None:
        return self.origins[0] if self.origins else None

    def link_base(self, host: str) -> str | None:
        """The origin a mailed link uses for a request that named ``host``: the listed origin with that
        host (case-insensitive, default ports implied), else the primary one; None when none is set."""
        host = host.strip().lower()
        for origin in self.origins:
            scheme, _, netloc = origin.partition("://")
            default = ":443" if scheme == "https" else ":80"
            if host in (netloc, netloc + default):
                return origin
        return self.primary

    def allows(self, origin: str) -> bool:
        """True when ``origin`` (an ``Origin`` header) is one of the configured origins."""
        try:
            return normalise(origin, "Origin") in self.origins
        except ConfigError:
            return False
