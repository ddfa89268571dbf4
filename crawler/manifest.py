"""What every source yields: a server and the MCP tools it exposes, in the MCP Tool shape."""

import hashlib
import json
from dataclasses import dataclass, field

# The fields that define a tool: a change to any of them is a new definition.
DEFINING_FIELDS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")


class ManifestError(ValueError):
    """Input that is not a usable tool or server; the message names what and where."""


@dataclass(slots=True)
class ServerManifest:
    """One server as a source saw it. `tools` is None when the source does not list tools."""

    name: str
    source: str
    tools: list | None
    title: str | None = None
    description: str | None = None
    meta: dict = field(default_factory=dict)


def _optional(value, kind, what, where):
    if value is None or isinstance(value, kind):
        return value
    raise ManifestError(f"{where}: {what} must be {kind.__name__ if kind is not dict else 'an object'}, "
                        f"got {type(value).__name__}")


def normalize_tool(obj, where):
    """Check one MCP Tool object and keep only its defining fields (absent ones as None).

    Accepts the MCP spelling (`inputSchema`) and the snake_case one some dumps use
    (`input_schema`, `tool` for the name).
    """
    if not isinstance(obj, dict):
        raise ManifestError(f"{where}: expected a JSON object (an MCP tool), got {type(obj).__name__}")
    name = obj.get("name", obj.get("tool"))
    if not isinstance(name, str) or not name.strip():
        raise ManifestError(f"{where}: tool has no \"name\" (a non-empty string)")
    input_schema = obj.get("inputSchema", obj.get("input_schema"))
    output_schema = obj.get("outputSchema", obj.get("output_schema"))
    return {
        "name": name,
        "title": _optional(obj.get("title"), str, "\"title\"", where),
        "description": _optional(obj.get("description"), str, "\"description\"", where),
        "inputSchema": _optional(input_schema, dict, "\"inputSchema\"", where),
        "outputSchema": _optional(output_schema, dict, "\"outputSchema\"", where),
        "annotations": _optional(obj.get("annotations"), dict, "\"annotations\"", where),
    }


def canonical_json(value):
    """JSON with sorted keys and no spaces: equal values give equal text (and hashes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def definition_hash(tool):
    """A stable hash of a normalized tool's definition."""
    defining = {key: tool.get(key) for key in DEFINING_FIELDS}
    return hashlib.sha256(canonical_json(defining).encode("utf-8")).hexdigest()
