"""Crawl MCP tool manifests from sources. Sources yield `ServerManifest` items; nothing here stores them."""

from .manifest import DEFINING_FIELDS, ManifestError, ServerManifest, canonical_json, definition_hash, normalize_tool

__all__ = [
    "DEFINING_FIELDS",
    "ManifestError",
    "ServerManifest",
    "canonical_json",
    "definition_hash",
    "normalize_tool",
]
