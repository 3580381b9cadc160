"""Static assets with content hashes in their names, precompressed once, served with year-long caching.

``build`` is pure: it maps each logical file name (``board.js``) to ``board.<hash>.js``, where the
hash covers the file's bytes after its own relative imports were rewritten to hashed names, so a
change in ``api.js`` also renames every module that imports it (a Merkle chain: no stale module
graph can ever be served under a cached name). Browsers load ES modules without a build chain.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# `import x from "./a.js"`, `export * from './a.js'`, `import "./a.js"` and `import("./a.js")`.
_IMPORT = re.compile(r"""((?:\bfrom|\bimport)\s*\(?\s*)(["'])\./([A-Za-z0-9_-]+\.js)\2""")
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".svg": "image/svg+xml", ".webmanifest": "application/manifest+json", ".json": "application/json"}
# Below this size gzip does not pay for its header and the CPU of inflating.
MIN_GZIP = 256


class AssetCycle(ValueError):
    """Two modules import each other: hashed names cannot be computed."""


@dataclass(frozen=True, slots=True)
class Asset:
    """One servable file: its hashed name, bytes, gzip bytes (or None) and content type."""

    name: str
    body: bytes
    gz: bytes | None
    content_type: str
    etag: str


@dataclass(frozen=True, slots=True)
class Bundle:
    """Logical name -> hashed URL, and hashed name -> asset."""

    urls: dict[str, str] = field(default_factory=dict)
    files: dict[str, Asset] = field(default_factory=dict)
    prefix: str = "/static/"
    imports: dict[str, tuple[str, ...]] = field(default_factory=dict)  # module -> the modules it imports

    def graph(self, logical: str) -> list[str]:
        """Every module ``logical`` imports, directly or not (sorted): the page preloads them all at
        once instead of finding them one round trip at a time."""
        seen: set[str] = set()
        todo = list(self.imports.get(logical, ()))
        while todo:
            dep = todo.pop()
            if dep not in seen:
                seen.add(dep)
                todo += self.imports.get(dep, ())
        return sorted(seen)

    def url(self, logical: str) -> str:
        """The hashed URL of ``logical``; KeyError names a missing asset at render time."""
        return self.urls[logical]

    def version(self) -> str:
        """A short id of the whole bundle (changes when any asset changes)."""
        digest = hashlib.sha256("\n".join(sorted(self.urls.values())).encode()).hexdigest()
        return digest[:12]


def hashed_name(logical: str, body: bytes) -> str:
    """``app.js`` -> ``app.<10 hex of sha256>.js``."""
    stem, dot, ext = logical.rpartition(".")
    digest = hashlib.sha256(body).hexdigest()[:10]
    return f"{stem}.{digest}.{ext}" if dot else f"{logical}.{digest}"


def content_type(logical: str) -> str:
    """The Content-Type header of a file by its extension."""
    ext = "." + logical.rpartition(".")[2]
    return _TYPES.get(ext) or mimetypes.guess_type(logical)[0] or "application/octet-stream"


def build(sources: Mapping[str, bytes], prefix: str = "/static/") -> Bundle:
    """Hash every file of ``sources`` (logical name -> bytes), rewriting relative JS imports first."""
    names: dict[str, str] = {}
    bodies: dict[str, bytes] = {}
    imports: dict[str, tuple[str, ...]] = {}

    def resolve(logical: str, stack: tuple[str, ...]) -> str:
        if logical in names:
            return names[logical]
        if logical in stack:
            raise AssetCycle(" -> ".join((*stack, logical)))
        raw = sources[logical]
        if logical.endswith(".js"):
            text = raw.decode()

            def swap(m: re.Match[str]) -> str:
                dep = m.group(3)
                if dep not in sources:
                    raise KeyError(f"{logical} imports missing module {dep}")
                return f"{m.group(1)}{m.group(2)}./{resolve(dep, (*stack, logical))}{m.group(2)}"

            raw = _IMPORT.sub(swap, text).encode()
            imports[logical] = tuple(sorted({m.group(3) for m in _IMPORT.finditer(text)}))
        names[logical] = hashed_name(logical, raw)
        bodies[logical] = raw
        return names[logical]

    for logical in sorted(sources):
        resolve(logical, ())
    files: dict[str, Asset] = {}
    for logical, name in names.items():
        body = bodies[logical]
        gz = gzip.compress(body, compresslevel=9, mtime=0) if len(body) >= MIN_GZIP else None
        if gz is not None and len(gz) >= len(body):
            gz = None
        files[name] = Asset(name, body, gz, content_type(logical), f'"{name}"')
    return Bundle({k: prefix + v for k, v in names.items()}, files, prefix, imports)


def load(folder: Path, prefix: str = "/static/") -> Bundle:
    """Read every file under ``folder`` (flat, no sub-folders) and build the bundle."""
    sources = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")}
    return build(sources, prefix)
