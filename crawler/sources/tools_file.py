"""MCP tools from a file or stream: JSON lines of Tool objects, or one `tools/list` result."""

import json

from ..manifest import ManifestError, normalize_tool


def _tools_list(document):
    """The tools array of a tools/list result, a JSON-RPC response carrying one, or a bare list."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        result = document.get("result")
        if isinstance(result, dict) and "tools" in result:
            document = result
        if "tools" in document:
            tools = document["tools"]
            if not isinstance(tools, list):
                raise ManifestError("\"tools\" must be an array")
            return tools
    return None


def read_tools(text, where):
    """The tools in a text, each a normalized tool plus its `id` and `server` (None when absent).

    The whole text is parsed before anything is returned, so a bad line fails the input as a whole.
    """
    items = []
    stripped = text.strip()
    document = None
    if stripped[:1] in ("{", "["):
        try:
            document = json.loads(stripped)
        except json.JSONDecodeError:
            document = None  # not one document: JSON lines
    tools = _tools_list(document) if document is not None else None
    if tools is not None:
        for index, obj in enumerate(tools):
            items.append(_item(obj, f"{where}: tools[{index}]"))
        return items
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as error:
            raise ManifestError(f"{where}:{number}: not valid JSON ({error.msg} at column {error.colno})") from None
        items.append(_item(obj, f"{where}:{number}"))
    return items


def _item(obj, where):
    tool = normalize_tool(obj, where)
    for key in ("id", "server"):
        value = obj.get(key)
        if value is not None and not isinstance(value, (str, int)):
            raise ManifestError(f"{where}: \"{key}\" must be a string or a number")
        tool[key] = value
    return tool
