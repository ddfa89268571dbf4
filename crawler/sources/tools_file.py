"""MCP tools from a file or stream: JSON lines of Tool objects, or one `tools/list` result."""

import json

from ..manifest import ManifestError, UnstorableValue, lone_surrogate, normalize_tool


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


def whole_document(text, where):
    """The text as one JSON document, or None when it is not one (JSON lines, say).

    ManifestError when it is JSON that cannot be used: a number of 5,000 digits, nesting past the stack.
    """
    stripped = text.strip()
    if stripped[:1] not in ("{", "["):
        return None
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        return None  # not one document: JSON lines, or broken (the line-by-line read says where)
    except (ValueError, RecursionError) as error:
        raise ManifestError(f"{where}: not usable JSON ({_why(error)})") from None


_UNREAD = object()


def read_tools(text, where, skipped=None, document=_UNREAD):
    """The tools in a text, each a normalized tool plus its `id` and `server` (None when absent).

    The whole text is parsed before anything is returned, so a bad line fails the input as a whole.
    With a list as `skipped`, a tool that cannot be stored (nested too deeply, not Unicode) is
    left out and said there instead. A caller that already parsed the text passes `document`
    (what `whole_document` gave) so it is not parsed twice.
    """
    items = []
    if document is _UNREAD:
        document = whole_document(text, where)
    tools = _tools_list(document) if document is not None else None
    if tools is not None:
        for index, obj in enumerate(tools):
            _add(items, obj, f"{where}: tools[{index}]", skipped)
        return items
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as error:
            raise ManifestError(f"{where}:{number}: not valid JSON ({error.msg} at column {error.colno})") from None
        except (ValueError, RecursionError) as error:
            raise ManifestError(f"{where}:{number}: not usable JSON ({_why(error)})") from None
        _add(items, obj, f"{where}:{number}", skipped)
    return items


def _add(items, obj, where, skipped):
    try:
        items.append(_item(obj, where))
    except UnstorableValue as error:
        if skipped is None:
            raise
        skipped.append(f"{error}: skipped")


def _why(error):
    return "nested too deeply" if isinstance(error, RecursionError) else str(error)[:200]


def _item(obj, where):
    tool = normalize_tool(obj, where)
    for key in ("id", "server"):
        value = obj.get(key)
        # Echoed back as given: not true/false (a bool is an int to Python), not broken Unicode.
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))
                                  or (isinstance(value, str) and lone_surrogate(value))):
            raise ManifestError(f"{where}: \"{key}\" must be a string or a number")
        tool[key] = value
    return tool
