"""What probing one server gave: its tools and identity, or a clear error; and as a ServerManifest."""

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from ..manifest import ServerManifest

SOURCE = "live"
_MAX_INSTRUCTIONS = 8000  # server text, kept for people to read; a flood is cut
MAX_WARNINGS = 50  # a server that breaks every tool gets its first few named and the rest counted

_SECRET_FLAG = re.compile(r"(key|token|secret|passw|pwd|auth|cred|bearer|cookie|session)", re.IGNORECASE)
_SECRET_VALUE = re.compile(r"(?=.*[A-Za-z])(?=.*\d)[A-Za-z0-9_\-+=]{24,}$")


@dataclass
class ProbeResult:
    """One server probed. `tools` (normalized MCP tools) is None when the probe failed; `error` says why."""

    spec: object
    tools: list | None = None
    transport: str | None = None  # stdio | streamable-http | sse
    protocol_version: str | None = None
    server_info: dict | None = None  # name, version, title as the server gave them
    instructions: str | None = None
    error: str | None = None
    warnings: list = field(default_factory=list)
    seconds: float = 0.0  # start (or connect) to tools listed
    containment: str | None = None  # the run-phase sandbox of a crawl live probe: bwrap | unshare
    warnings_left_out: int = 0
    ours: bool = False  # the failure is this machine's (no runner, no sandbox, a lost worker), not the server's

    def warn(self, text):
        """Note what went wrong but was survived; past MAX_WARNINGS only counted, in a last line."""
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(text)
            return
        self.warnings_left_out += 1
        summary = f"... and {self.warnings_left_out:,} more warnings"
        if self.warnings_left_out == 1:
            self.warnings.append(summary)
        else:
            self.warnings[-1] = summary

    @property
    def name(self):
        return self.spec.name

    @property
    def ok(self):
        return self.error is None

    def manifest(self):
        """A ServerManifest for the catalogue: tools None when unknown, never a partial list."""
        info = self.server_info or {}
        return ServerManifest(
            name=self.spec.name,
            source=SOURCE,
            tools=self.tools if self.ok else None,
            title=info.get("title") or None,
            meta=self.meta(),
        )

    def meta(self):
        """Provenance without secrets: env and header names only, credential-looking args masked."""
        spec = self.spec
        meta = {"origin": spec.origin, "transport": self.transport or spec.transport}
        if spec.command is not None:
            meta["command"] = redact_args([spec.command, *spec.args])
            if spec.env:
                meta["env_names"] = sorted(spec.env)
        if spec.url is not None:
            meta["url"] = redact_url(spec.url)
            if spec.headers:
                meta["header_names"] = sorted(spec.headers)
        for key in ("protocol_version", "server_info", "error", "containment"):
            if getattr(self, key):
                meta[key] = getattr(self, key)
        if self.instructions:
            meta["instructions"] = self.instructions[:_MAX_INSTRUCTIONS]
        if self.warnings:
            meta["warnings"] = list(self.warnings)
        return meta


def redact_args(argv):
    """A command line with the values of secret-looking flags, and credential-like strings, masked."""
    out, hide_next = [], False
    for arg in argv:
        flag, eq, value = arg.partition("=")
        if hide_next:
            out.append("***")
            hide_next = False
        elif arg.startswith("-") and _SECRET_FLAG.search(flag):
            out.append(f"{flag}=***" if eq else arg)
            hide_next = not eq
        elif _SECRET_VALUE.match(arg) and "/" not in arg:
            out.append("***")
        else:
            out.append(arg)
    return out


def redact_url(url):
    """A URL without its user info and with query values masked (API keys often travel there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    query = "&".join(f"{item.partition('=')[0]}=***" if "=" in item else item
                     for item in parts.query.split("&") if item)
    return urlunsplit((parts.scheme, host, parts.path, query, ""))
