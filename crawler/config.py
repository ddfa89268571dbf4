"""crawl.toml: the sources a scheduled crawl runs, in order, and how politely.

    db = "catalogue.db"              # optional; --db on the command line wins

    [http]                           # optional; for every source
    rate_per_minute = 150            # per host (the official registry allows 180)
    concurrency_per_host = 4
    timeout = 30                     # seconds to connect, and between bytes
    attempts = 5                     # tries per request (timeouts, 429, 5xx)
    max_bytes = 67108864             # per response
    user_agent = "mcp-risk/0.1.0 (+https://example.org/contact)"

    [limits]                         # optional; per source, resumable where they stop it
    max_pages = 10000
    max_seconds = 3600

    [[sources]]
    kind = "registry"                # registry | docker | glama | smithery | awesome | file | snapshot
    url = "https://registry.modelcontextprotocol.io"

    [[sources]]
    kind = "file"
    paths = ["servers/github-tools.json"]   # relative to this file
    server = "github"

A source table may also set `name` (its name in the catalogue) and override any [http] or
[limits] key for itself.
"""

import tomllib
from dataclasses import fields, replace
from pathlib import Path

from .http import HttpOptions
from .manifest import ManifestError
from .pages import Limits

KINDS = ("registry", "docker", "glama", "smithery", "awesome", "file", "snapshot", "live")
_SOURCE_KEYS = {
    "registry": {"url", "full"},
    "docker": {"url", "tools_urls"},
    "glama": {"url", "query"},
    "smithery": {"url", "query", "details"},
    "awesome": {"url"},
    "file": {"paths", "path", "server"},
    "snapshot": {"path"},
    "live": {"allow_exec", "max_age", "concurrency", "cluster", "probe_timeout", "install_timeout", "cache_dir"},
}
_LIVE_KEYS = _SOURCE_KEYS["live"] - {"allow_exec"}
_HTTP_KEYS = {"rate_per_minute", "concurrency_per_host", "timeout", "attempts", "max_bytes", "user_agent"}
_LIMIT_KEYS = {"max_pages", "max_seconds"}


class ConfigError(ManifestError):
    """A crawl.toml that cannot be used; the message names the file and the key."""


class SnapshotSource:
    """The bundled (or a given) snapshot as a source of one page, for crawl.toml."""

    kind = "snapshot"

    def __init__(self, path=None, *, name=None):
        self.path = path
        self.name = name or "snapshot"
        self.location = str(path) if path else "bundled"

    async def pages(self, http, state):
        import asyncio

        from .pages import Page
        from .sources.snapshot import read_snapshot

        manifests = await asyncio.to_thread(lambda: list(read_snapshot(self.path)))
        yield Page(manifests=manifests, state={}, url=self.location, done=True)


def make_source(kind, *, name=None, **options):
    """A source object for `kind` with its options (as on the command line or in crawl.toml)."""
    if kind == "registry":
        from .sources.registry import RegistrySource

        return RegistrySource(options.get("url"), name=name, full=bool(options.get("full")))
    if kind == "docker":
        from .sources.docker import DockerSource

        return DockerSource(options.get("url"), name=name, follow_tools_urls=options.get("tools_urls", True))
    if kind == "glama":
        from .sources.glama import GlamaSource

        return GlamaSource(options.get("url"), name=name, query=options.get("query"))
    if kind == "smithery":
        from .sources.smithery import SmitherySource

        return SmitherySource(options.get("url"), name=name, query=options.get("query"),
                              details=options.get("details", True))
    if kind == "awesome":
        from .sources.awesome import AwesomeSource

        return AwesomeSource(options.get("url"), name=name)
    if kind == "file":
        from .sources.files import FilesSource

        paths = options.get("paths") or ([options["path"]] if options.get("path") else [])
        return FilesSource(paths, server=options.get("server"), name=name)
    if kind == "snapshot":
        return SnapshotSource(options.get("path"), name=name)
    if kind == "live":
        return live_source(name=name, **options)
    raise ConfigError(f"unknown source kind {kind!r}: choose from {', '.join(KINDS)}")


def live_source(*, name=None, allow_exec=False, max_age=None, concurrency=None, cluster=None,
                probe_timeout=None, install_timeout=None, cache_dir=None, memory_bytes=None, cpu_seconds=None):
    """`crawl live`'s source. It runs strangers' code: refused unless `allow_exec` is true."""
    from .live.crawl import (DEFAULT_CONCURRENCY, DEFAULT_INSTALL_TIMEOUT, DEFAULT_MAX_AGE, LiveSource,
                             make_executor, parse_age)
    from .live.sandbox import Limits

    if allow_exec is not True:
        raise ConfigError("a live source installs and runs registry servers' code: it needs allow_exec = true "
                          "(--allow-exec on the command line)")
    limits = Limits(timeout=float(probe_timeout or 60), **({"memory_bytes": memory_bytes} if memory_bytes else {}),
                    **({"cpu_seconds": cpu_seconds} if cpu_seconds else {}))
    return LiveSource(name=name, max_age=DEFAULT_MAX_AGE if max_age is None else parse_age(max_age),
                      executor=make_executor(cluster, int(concurrency or DEFAULT_CONCURRENCY)), limits=limits,
                      cache_dir=cache_dir, install_timeout=float(install_timeout or DEFAULT_INSTALL_TIMEOUT))


def http_options(base=None, **settings):
    """HttpOptions with config keys applied (`timeout` sets the read timeout)."""
    options = base or HttpOptions()
    changes = {k: v for k, v in settings.items() if k in {f.name for f in fields(HttpOptions)} and v is not None}
    if settings.get("timeout") is not None:
        changes["read_timeout"] = float(settings["timeout"])
    return replace(options, **changes)


class CrawlPlan:
    """A parsed crawl.toml: the catalogue, and (source, HttpOptions, Limits) for each source."""

    def __init__(self, db, entries):
        self.db = db
        self.entries = entries


def load(path):
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror or error})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    except (ValueError, RecursionError) as error:  # a 5,000-digit number; arrays nested past the stack
        why = "nested too deeply" if isinstance(error, RecursionError) else str(error)[:200]
        raise ConfigError(f"{path}: not usable TOML ({why})") from None
    return parse(document, path)


def parse(document, path):
    base_dir = Path(path).resolve().parent
    unknown = set(document) - {"db", "http", "limits", "sources", "live"}
    if unknown:
        raise ConfigError(f"{path}: unknown key {sorted(unknown)[0]!r} (expected db, http, limits, live, sources)")
    live = _table(document.get("live"), f"{path}: [live]", _LIVE_KEYS)
    http = _table(document.get("http"), f"{path}: [http]", _HTTP_KEYS)
    limits = _table(document.get("limits"), f"{path}: [limits]", _LIMIT_KEYS)
    sources = document.get("sources")
    if not isinstance(sources, list) or not sources:
        raise ConfigError(f"{path}: no [[sources]]: list at least one source to crawl")
    entries, names = [], set()
    for index, table in enumerate(sources):
        where = f"{path}: sources[{index}]"
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: expected a table")
        kind = table.get("kind")
        if kind not in KINDS:
            raise ConfigError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
        allowed = _SOURCE_KEYS[kind] | _HTTP_KEYS | _LIMIT_KEYS | {"kind", "name"}
        extra = set(table) - allowed
        if extra:
            raise ConfigError(f"{where}: unknown key {sorted(extra)[0]!r} for a {kind} source "
                              f"(allowed: {', '.join(sorted(allowed - {'kind'}))})")
        _check_types(table, where)
        options = {k: v for k, v in table.items() if k in _SOURCE_KEYS[kind]}
        if kind == "live":
            options = {**live, **options}
        for key in ("path", "cache_dir"):
            if key in options:
                options[key] = str(base_dir / options[key])
        if "paths" in options:
            if not isinstance(options["paths"], list) or not all(isinstance(p, str) for p in options["paths"]):
                raise ConfigError(f"{where}: paths must be a list of strings")
            options["paths"] = [str(base_dir / p) for p in options["paths"]]
        if kind == "file" and not (options.get("paths") or options.get("path")):
            raise ConfigError(f"{where}: a file source needs `paths` (or `path`)")
        source = make_source(kind, name=table.get("name"), **options)
        if source.name in names:
            raise ConfigError(f"{where}: a second source named {source.name!r}: give one a different `name`")
        names.add(source.name)
        settings = {**http, **{k: v for k, v in table.items() if k in _HTTP_KEYS}}
        limit = {**limits, **{k: v for k, v in table.items() if k in _LIMIT_KEYS}}
        entries.append((source, http_options(**settings), Limits(**limit)))
    db = document.get("db")
    if db is not None and (not isinstance(db, str) or "\x00" in db):
        raise ConfigError(f"{path}: db must be a string (a path)")
    return CrawlPlan(str(base_dir / db) if db else None, entries)


def _table(value, where, allowed):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table")
    extra = set(value) - allowed
    if extra:
        raise ConfigError(f"{where}: unknown key {sorted(extra)[0]!r} (allowed: {', '.join(sorted(allowed))})")
    _check_types(value, where)
    return dict(value)


_TYPES = {
    "url": str, "name": str, "query": str, "server": str, "path": str, "user_agent": str,
    "full": bool, "tools_urls": bool, "details": bool,
    "rate_per_minute": (int, float), "timeout": (int, float), "max_seconds": (int, float),
    "concurrency_per_host": int, "attempts": int, "max_bytes": int, "max_pages": int,
    "allow_exec": bool, "max_age": (str, int, float), "concurrency": int, "cluster": str,
    "probe_timeout": (int, float), "install_timeout": (int, float), "cache_dir": str,
}


def _check_types(table, where):
    for key, value in table.items():
        texts = value if key == "paths" and isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            # TOML can spell one (\u0000); no path or URL can hold it (open() raises ValueError).
            raise ConfigError(f"{where}: {key} contains a NUL character")
        kind = _TYPES.get(key)
        if kind is None:
            continue
        numeric = kind in (int, (int, float))
        if not isinstance(value, kind) or (numeric and isinstance(value, bool)):
            raise ConfigError(f"{where}: {key} must be {_type_name(kind)}, got {type(value).__name__}")
        if numeric and value <= 0 and key != "rate_per_minute":
            raise ConfigError(f"{where}: {key} must be positive")
        if key == "rate_per_minute" and value < 0:
            raise ConfigError(f"{where}: rate_per_minute must be positive (0: no limit)")


def _type_name(kind):
    return {str: "a string", bool: "true or false", int: "an integer", (int, float): "a number",
            (str, int, float): "an age (7d, 12h, seconds)"}[kind]
