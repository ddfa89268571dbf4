"""What every source yields: a server and the MCP tools it exposes, in the MCP Tool shape."""

import hashlib
import json
from dataclasses import dataclass, field

# The fields that define a tool: a change to any of them is a new definition.
DEFINING_FIELDS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")
MAX_DEPTH = 64  # JSON nesting in a tool's schemas; real ones stay under 30


class ManifestError(ValueError):
    """Input that is not a usable tool or server; the message names what and where."""


class UnstorableValue(ManifestError):
    """JSON nested too deeply, or text that is not Unicode: nothing downstream could take it."""


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


def lone_surrogate(value):
    """Whether a string is not valid Unicode: it holds half a UTF-16 surrogate pair.

    JSON's `\\ud800` escape gives Python such a string, which cannot be written as UTF-8: left in a
    tool, it would crash hashing, the catalogue and every output downstream.
    """
    if value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def without_surrogates(value):
    """The text with each half of a UTF-16 surrogate pair replaced by U+FFFD (for text that is kept
    whatever it holds, or shown: the rest of it stays as it was)."""
    if not lone_surrogate(value):
        return value
    return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value)


def check_json(value, where, max_depth=MAX_DEPTH):
    """ManifestError unless a JSON value nests at most `max_depth` levels and all its strings (keys
    too) are valid Unicode. Iterative, so a hostile value cannot blow the stack. Returns the value
    as JSON text (None for a scalar), for callers that need its size."""
    if value is None or isinstance(value, (bool, int, float)):
        return None
    # The common case in C: one encoding finds any lone surrogate, and a value with fewer brackets
    # than the depth limit cannot nest deeper than it. Only the rest is walked in Python.
    try:
        text = json.dumps(value, ensure_ascii=False, check_circular=False, default=str)
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UnstorableValue(f"{where}: text that is not valid Unicode (a lone UTF-16 surrogate)") from None
    except RecursionError:
        raise UnstorableValue(f"{where}: JSON nested more than {max_depth} levels deep") from None
    if text.count("{") + text.count("[") <= max_depth:
        return text
    stack = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, str):
            if lone_surrogate(node):
                raise UnstorableValue(f"{where}: text that is not valid Unicode (a lone UTF-16 surrogate)")
            continue
        if isinstance(node, dict):
            children = [*node.keys(), *node.values()]
        elif isinstance(node, list):
            children = node
        else:
            continue
        if level > max_depth:
            raise UnstorableValue(f"{where}: JSON nested more than {max_depth} levels deep")
        stack.extend((child, level + 1) for child in children)
    return text


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
    tool = {
        "name": name,
        "title": _optional(obj.get("title"), str, "\"title\"", where),
        "description": _optional(obj.get("description"), str, "\"description\"", where),
        "inputSchema": _optional(input_schema, dict, "\"inputSchema\"", where),
        "outputSchema": _optional(output_schema, dict, "\"outputSchema\"", where),
        "annotations": _optional(obj.get("annotations"), dict, "\"annotations\"", where),
    }
    # A schema 900 levels deep parses, then overflows the stack of whatever walks it next (the
    # classifier, json.dumps); half a surrogate pair cannot be hashed or stored. Refused here, once.
    for value in tool.values():
        check_json(value, f"{where}: tool {name[:80]!r}")
    return tool


def canonical_json(value):
    """JSON with sorted keys and no spaces: equal values give equal text (and hashes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def definition_hash(tool):
    """A stable hash of a normalized tool's definition."""
    defining = {key: tool.get(key) for key in DEFINING_FIELDS}
    return hashlib.sha256(canonical_json(defining).encode("utf-8")).hexdigest()
