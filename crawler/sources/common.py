"""Lenient readers for untrusted catalogue JSON: every field optional, wrong types dropped, not fatal."""

from ..identity import check_name, clean_text
from ..manifest import MAX_DEPTH, ManifestError, check_json, normalize_tool, without_surrogates

TEXT_LIMIT = 2_000
SERVER_JSON_LIMIT = 256 * 1024
MAX_TOOLS = 2_000  # per server: more is a hostile or broken listing


def text(value, limit=TEXT_LIMIT):
    """Metadata text, cleaned of control and invisible characters and capped."""
    return clean_text(value, limit)


def verbatim(value):
    """Descriptions: kept as given (hidden characters in them are evidence for the classifier).

    Only half a UTF-16 surrogate pair is replaced (by U+FFFD): it is not Unicode, and no database
    or terminal can take it.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    return without_surrogates(value)


def json_value(value, where, errors, what, limit=None):
    """A JSON value kept as it is in a record, or None (reported) when it nests too deeply, holds
    text that is not Unicode, or is longer than `limit` characters as JSON: the catalogue must be
    able to store and print what it keeps, and a hostile entry does not get to fill it."""
    if value is None:
        return None
    try:
        text = check_json(value, f"{where}: {what}", MAX_DEPTH)
    except ManifestError as error:
        errors.append(f"{error}: dropped")
        return None
    if limit is not None and text is not None and len(text) > limit:
        errors.append(f"{where}: {what} of {len(text):,} characters not kept (over {limit:,})")
        return None
    return value


def obj(value):
    return value if isinstance(value, dict) else {}


def items(value):
    return value if isinstance(value, list) else []


def flag(value):
    return value if isinstance(value, bool) else None


def strings(value, limit=200):
    return [s for s in (text(v, TEXT_LIMIT) for v in items(value)[:limit]) if s]


def compact(mapping):
    """The mapping without None, empty strings, lists and dicts: records stay small and stable."""
    return {k: v for k, v in mapping.items() if v not in (None, "", [], {})}


def server_name(value, where, errors):
    name, why = check_name(value)
    if why:
        errors.append(f"{where}: skipped: {why}")
    return name


def tools(raw, where, errors):
    """Normalized MCP tools from a list; a tool that is not one (no name, a schema that is not an
    object, JSON nested past the limit) is reported and skipped, not the server."""
    result, seen = [], set()
    for index, entry in enumerate(items(raw)):
        if index >= MAX_TOOLS:
            errors.append(f"{where}: more than {MAX_TOOLS} tools; the rest skipped")
            break
        try:
            tool = normalize_tool(entry, f"{where}: tools[{index}]")
        except ManifestError as error:
            errors.append(str(error))
            continue
        # Names, titles and descriptions stay verbatim, whatever they hold: a name that hides
        # control, bidi or look-alike characters is what a security catalogue must show (the
        # classifier flags it; outputs escape it), and a policy must name the tool the server lists.
        if tool["name"] in seen:
            continue
        seen.add(tool["name"])
        result.append(tool)
    return result


def tool_names(raw, where, errors):
    """Tools known by name only (ToolHive lists names)."""
    return tools([{"name": n} for n in items(raw) if isinstance(n, str)], where, errors)


def packages(raw):
    """server.json packages, trimmed to what identifies and describes how a server runs."""
    result = []
    for package in items(raw)[:50]:
        package = obj(package)
        transport = obj(package.get("transport"))
        env = [compact({"name": text(v.get("name"), 200), "isSecret": flag(v.get("isSecret")),
                        "isRequired": flag(v.get("isRequired")), "description": text(v.get("description"))})
               for v in map(obj, items(package.get("environmentVariables"))[:100])]
        args = [compact({"type": text(a.get("type"), 20), "name": text(a.get("name"), 200),
                         "valueHint": text(a.get("valueHint"), 200), "value": text(a.get("value"), 500),
                         "isSecret": flag(a.get("isSecret"))})
                for key in ("runtimeArguments", "packageArguments")
                for a in map(obj, items(package.get(key))[:100])]
        entry = compact({
            "registryType": text(package.get("registryType"), 50),
            "identifier": text(package.get("identifier"), 500),
            "version": text(package.get("version"), 100),
            "runtimeHint": text(package.get("runtimeHint"), 50),
            "transport": text(transport.get("type"), 50),
            "url": text(transport.get("url"), 1000),
            "environmentVariables": [e for e in env if e.get("name")],
            "arguments": [a for a in args if a],
        })
        if entry.get("identifier"):
            result.append(entry)
    return result


def remotes(raw):
    result = []
    for remote in map(obj, items(raw)[:50]):
        entry = compact({
            "type": text(remote.get("type") or remote.get("transport_type"), 50),
            "url": text(remote.get("url"), 1000),
            "headers": [compact({"name": text(h.get("name"), 200), "isSecret": flag(h.get("isSecret")),
                                 "isRequired": flag(h.get("isRequired"))})
                        for h in map(obj, items(remote.get("headers"))[:50]) if text(h.get("name"), 200)],
        })
        if entry.get("url"):
            result.append(entry)
    return result


def registry_server(server, extra_meta, where, errors, source):
    """A ServerManifest from a server.json object (registry API, ToolHive upstream, seed files)."""
    from ..manifest import ServerManifest

    server = obj(server)
    name = server_name(server.get("name"), where, errors)
    if name is None:
        return None
    repository = obj(server.get("repository"))
    meta = compact({
        "registry_name": name,
        "version": text(server.get("version"), 255),
        "repository": text(repository.get("url"), 1000),
        "subfolder": text(repository.get("subfolder"), 500),
        "website": text(server.get("websiteUrl"), 1000),
        "packages": packages(server.get("packages")),
        "remotes": remotes(server.get("remotes")),
        **extra_meta,
    })
    # The server.json itself, as published: `mcp-risk probe --from-catalogue` runs what it says
    # (only with --allow-exec), which needs every argument in its place.
    kept = json_value(server, where, errors, "server.json", SERVER_JSON_LIMIT)
    if kept:
        meta["server_json"] = kept
    return ServerManifest(name=name, source=source, tools=None, title=text(server.get("title"), 200),
                          description=verbatim(server.get("description")), meta=meta)
