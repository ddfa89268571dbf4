"""Local files, each one page, its format recognised from its content:

  a `tools/list` result (or a JSON-RPC response carrying one), a JSON array or JSON lines of MCP
  tools (rows may name their `server`), a registry API page or a list of server.json objects,
  a Docker catalog (catalog.json, or the docker/mcp-registry dump), a ToolHive registry (the
  legacy `servers`/`remote_servers` file, or the upstream `data.servers` format).

A file that cannot be read is logged and the crawl goes on with the next one.
State: {"resume": {"paths", "next"}} while files remain.
"""

from pathlib import Path

from ..manifest import ManifestError, ServerManifest
from ..pages import Page
from . import common
from .docker import parse_catalog
from .registry import parse_entry
from .tools_file import read_tools, whole_document

NAME = "file"
MAX_FILE_BYTES = 256 * 1024 * 1024


class FilesSource:
    kind = NAME

    def __init__(self, paths, *, server=None, name=None):
        self.paths = [str(p) for p in paths]
        self.server = server
        self.location = ", ".join(self.paths)
        self.name = name or NAME

    async def pages(self, http, state):
        resume = common.obj(state.get("resume"))
        start = int(resume.get("next") or 0) if resume.get("paths") == self.paths else 0
        for index in range(start, len(self.paths)):
            path = self.paths[index]
            last = index == len(self.paths) - 1
            next_state = {} if last else {"resume": {"paths": self.paths, "next": index + 1}}
            try:
                manifests, errors = read_file(path, self.server)
            except ManifestError as error:
                manifests, errors = [], [str(error)]
            yield Page(manifests=manifests, state=next_state, url=path, errors=errors, done=last)


def read_file(path, server=None):
    """(manifests, errors) of one file. ManifestError when the file as a whole is unusable."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size <= MAX_FILE_BYTES:
            data = path.read_bytes()
    except (OSError, ValueError) as error:  # ValueError: a NUL in the path
        raise ManifestError(f"{path}: cannot read ({getattr(error, 'strerror', None) or error})") from None
    if size > MAX_FILE_BYTES:
        raise ManifestError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ManifestError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    if not text.strip():
        raise ManifestError(f"{path}: empty file, no servers or tools in it")
    return parse_document(text, str(path), server, default=path.stem)


def parse_document(text, where, server, default=None):
    """(manifests, errors) of a file's text; tools that name no server go to `server`, else to
    the server the file names (`server_info`), else to `default`."""
    document = whole_document(text, where)
    errors = []
    if isinstance(document, dict):
        if isinstance(document.get("registry"), dict) or (
                isinstance(document.get("servers"), dict) and _looks_docker(document["servers"])):
            manifests, errors, _ = parse_catalog(document, where)
            return _as(manifests, NAME), errors
        if isinstance(document.get("servers"), dict) or isinstance(document.get("remote_servers"), dict):
            return toolhive_legacy(document, where, errors), errors
        data = common.obj(document.get("data"))
        if isinstance(data.get("servers"), list):
            return server_list(data["servers"], where, errors), errors
        if isinstance(document.get("servers"), list):
            return server_list(document["servers"], where, errors), errors
    if isinstance(document, list) and document and all(isinstance(e, dict) for e in document) and \
            all(_looks_server_json(e) for e in document):
        return server_list(document, where, errors), errors
    if isinstance(document, dict) and "tools" not in document and "result" not in document \
            and not _looks_tool(document):
        raise ManifestError(f"{where}: not a file mcp-risk knows (a tools/list result, tools as JSON or "
                            "JSON lines, a registry page or server.json list, a Docker or ToolHive registry)")
    if isinstance(document, dict) and server is None:  # a dump that says whose tools they are
        info = common.obj(document.get("server_info") or document.get("serverInfo"))
        server = common.text(info.get("name"), 200)
    try:
        tools = read_tools(text, where, skipped=errors, document=document)
    except (ValueError, RecursionError) as error:
        if isinstance(error, ManifestError):
            raise
        raise ManifestError(f"{where}: not usable JSON ({str(error)[:200] or 'nested too deeply'})") from None
    return tools_manifests(tools, server or default, where, errors), errors


def _looks_tool(entry):
    """One MCP Tool object: a file (or a JSON-lines file of one line) holding a single tool."""
    return isinstance(entry.get("name"), str) and any(
        k in entry for k in ("description", "inputSchema", "input_schema", "title", "annotations"))


def _looks_docker(servers):
    return any(isinstance(v, dict) and "server_yaml" in v for v in list(servers.values())[:5])


def _looks_server_json(entry):
    return isinstance(entry.get("server"), dict) or (
        "name" in entry and any(k in entry for k in ("packages", "remotes", "$schema", "repository", "version")))


def _as(manifests, source):
    for manifest in manifests:
        manifest.source = source
    return manifests


def server_list(entries, where, errors):
    manifests = []
    for index, entry in enumerate(entries):
        manifest = parse_entry(entry, f"{where}: servers[{index}]", errors, registry=None, source=NAME)
        if manifest is None:
            continue
        tools = _publisher_tools(entry, f"{where}: servers[{index}]", errors)
        if tools:
            manifest.tools = tools
        manifests.append(manifest)
    return manifests


def _publisher_tools(entry, where, errors):
    """Tools in ToolHive's publisher-provided metadata: full `tool_definitions`, else names."""
    server = entry.get("server") if isinstance(entry.get("server"), dict) else entry
    provided = common.obj(common.obj(server.get("_meta")).get("io.modelcontextprotocol.registry/publisher-provided"))
    for namespace in provided.values():
        for extension in common.obj(namespace).values():
            extension = common.obj(extension)
            if isinstance(extension.get("tool_definitions"), list):
                return common.tools(extension["tool_definitions"], where, errors)
            if isinstance(extension.get("tools"), list):
                return common.tool_names(extension["tools"], where, errors)
    return None


def toolhive_legacy(document, where, errors):
    manifests = []
    for group in ("servers", "remote_servers"):
        for key, entry in common.obj(document.get(group)).items():
            spot = f"{where}: {group}.{str(key)[:80]}"
            if not isinstance(entry, dict):
                errors.append(f"{spot}: skipped: expected an object, got {type(entry).__name__}")
                continue
            name = common.server_name(key, spot, errors)
            if name is None:
                continue
            status = (common.text(entry.get("status"), 20) or "").lower()
            if isinstance(entry.get("tool_definitions"), list):
                tools = common.tools(entry["tool_definitions"], spot, errors)
            else:
                tools = common.tool_names(entry.get("tools"), spot, errors)
            image = common.text(entry.get("image"), 500)
            meta = common.compact({
                "status": status if status in ("active", "deprecated") else None,
                "tier": common.text(entry.get("tier"), 50),
                "transport": common.text(entry.get("transport"), 50),
                "repository": common.text(entry.get("repository_url"), 1000),
                "image": image,
                "packages": [{"registryType": "oci", "identifier": image}] if image else None,
                "url": common.text(entry.get("url"), 1000),
                "tags": common.strings(entry.get("tags")),
                "permissions": common.json_value(common.obj(entry.get("permissions")) or None, spot, errors,
                                                 "permissions"),
                "env": [common.compact({"name": common.text(v.get("name"), 200), "secret": common.flag(v.get("secret")),
                                        "required": common.flag(v.get("required"))})
                        for v in map(common.obj, common.items(entry.get("env_vars"))[:100]) if common.text(v.get("name"), 200)],
            })
            manifests.append(ServerManifest(name=name, source=NAME, tools=tools or None, meta=meta,
                                            description=common.verbatim(entry.get("description"))))
    return manifests


def tools_manifests(tools, server, where, errors):
    """Tools (from tools_file.read_tools) grouped into one manifest per server."""
    by_server = {}
    for tool in tools:
        owner = tool.pop("server", None)
        tool.pop("id", None)
        by_server.setdefault(str(owner) if owner is not None else server, []).append(tool)
    manifests = []
    for name, server_tools in by_server.items():
        checked = common.server_name(name, where, errors)
        if checked is None:
            continue
        manifests.append(ServerManifest(name=checked, source=NAME, tools=common.tools(server_tools, where, errors)))
    return manifests
