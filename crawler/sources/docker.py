"""Docker's MCP catalog: one file of server tiles with their tools and the sandbox they run in.

Two real shapes are read:
  catalog.json   {version, name, registry: {name: tile}}; a tile lists tools (sometimes names
                 only, with a `toolsUrl` to the full list) and says `disableNetwork`, `allowHosts`,
                 `secrets`, `volumes`: risk context, kept in the server's record.
  mcp-registry   {servers: {name: {server_yaml, tools_json}}}, the docker/mcp-registry repository
                 (server.yaml + tools.json per server).
A Docker tool has `arguments[]` ({name, type, desc, optional, items}) where MCP has an
`inputSchema`; they are turned into one.
"""

import asyncio
from urllib.parse import urljoin

from ..http import FetchError, PageError
from ..pages import Page
from . import common

NAME = "docker"
DEFAULT_URL = "https://desktop.docker.com/mcp/catalog/v3/catalog.json"


class DockerSource:
    kind = NAME
    lists_everything = True  # a complete walk is the whole listing: what it lacks is no longer listed

    def __init__(self, url=None, *, name=None, follow_tools_urls=True):
        self.url = url or DEFAULT_URL
        self.location = self.url
        self.name = name or (NAME if self.url == DEFAULT_URL else f"{NAME}:{self.url}")
        self.follow_tools_urls = follow_tools_urls

    async def pages(self, http, state):
        fetched = await http.get(self.url)
        manifests, errors, pending = parse_catalog(fetched.json(), fetched.url)
        if self.follow_tools_urls and pending:
            await _fetch_tools(http, pending, fetched.url, errors)
        yield Page(manifests=manifests, state={}, url=fetched.url, errors=errors,
                   not_modified=fetched.not_modified, done=True)


async def _fetch_tools(http, pending, base, errors):
    """Fill in tools that a tile lists by name only, from its toolsUrl."""

    async def one(manifest, url):
        where = f"{manifest.name}: toolsUrl"
        try:
            fetched = await http.get(urljoin(base, url))
            document = fetched.json()
        except (FetchError, PageError) as error:
            errors.append(f"{where}: {error}")
            return
        if isinstance(document, dict):
            document = document.get("tools")
        found = docker_tools(document, where, errors)
        if found:
            manifest.tools = found

    await asyncio.gather(*(one(m, u) for m, u in pending))


def parse_catalog(document, where):
    """(manifests, errors, [(manifest, toolsUrl)] still to fetch). PageError when not a catalog."""
    if isinstance(document, dict) and isinstance(document.get("registry"), dict):
        tiles = document["registry"].items()
        reader = _from_tile
    elif isinstance(document, dict) and isinstance(document.get("servers"), dict):
        tiles = document["servers"].items()
        reader = _from_repo_entry
    else:
        raise PageError(f"{where}: not a Docker MCP catalog (no \"registry\" or \"servers\" object)")
    manifests, errors, pending = [], [], []
    for key, tile in tiles:
        spot = f"{where}: {str(key)[:80]}"
        if not isinstance(tile, dict):
            errors.append(f"{spot}: skipped: expected an object, got {type(tile).__name__}")
            continue
        result = reader(key, tile, spot, errors)
        if result is None:
            continue
        manifest, tools_url = result
        manifests.append(manifest)
        if tools_url:
            pending.append((manifest, tools_url))
    return manifests, errors, pending


def _from_tile(key, tile, where, errors):
    from ..manifest import ServerManifest

    name = common.server_name(tile.get("name") if isinstance(tile.get("name"), str) else key, where, errors)
    if name is None:
        return None
    metadata = common.obj(tile.get("metadata"))
    tools = docker_tools(tile.get("tools"), where, errors)
    tools_url = common.text(tile.get("toolsUrl"), 1000)
    names_only = bool(tools) and all(t["description"] is None and t["inputSchema"] is None for t in tools)
    meta = _context(
        tile, image=tile.get("image"), kind=tile.get("type"), repository=tile.get("upstream") or tile.get("source"),
        subfolder=None, category=metadata.get("category"), tags=metadata.get("tags"),
        remote=tile.get("remote"), extra={"license": common.text(metadata.get("license"), 200),
                                          "owner": common.text(metadata.get("owner"), 200),
                                          "tools_url": tools_url})
    manifest = ServerManifest(name=name, source=NAME, tools=tools or None, title=common.text(tile.get("title"), 200),
                              description=common.verbatim(tile.get("description")), meta=meta)
    return manifest, (tools_url if (tools_url and (names_only or not tools)) else None)


def _from_repo_entry(key, entry, where, errors):
    from ..manifest import ServerManifest

    server = common.obj(entry.get("server_yaml"))
    name = common.server_name(server.get("name") if isinstance(server.get("name"), str) else key, where, errors)
    if name is None:
        return None
    about, meta_in, source = common.obj(server.get("about")), common.obj(server.get("meta")), common.obj(server.get("source"))
    run, config = common.obj(server.get("run")), common.obj(server.get("config"))
    tools = docker_tools(entry.get("tools_json"), where, errors)
    if not tools and server.get("tools"):  # "poci" servers define tools inline, with a JSON schema
        tools = docker_tools(server.get("tools"), where, errors)
    context = {**run, "secrets": config.get("secrets"), "env": config.get("env") or run.get("env")}
    meta = _context(
        context, image=server.get("image"), kind=server.get("type"), repository=source.get("project"),
        subfolder=source.get("directory"), category=meta_in.get("category"), tags=meta_in.get("tags"),
        remote=server.get("remote"), extra={"commit": common.text(source.get("commit"), 100),
                                            "oauth": bool(server.get("oauth")) or None,
                                            "dynamic_tools": common.flag(common.obj(server.get("dynamic")).get("tools"))})
    return ServerManifest(name=name, source=NAME, tools=tools or None, title=common.text(about.get("title"), 200),
                          description=common.verbatim(about.get("description")), meta=meta), None


def _context(where_from, *, image, kind, repository, subfolder, category, tags, remote, extra):
    """The server's record: identity, plus the sandbox it runs in (network, hosts, secrets, volumes)."""
    image = common.text(image, 500)
    remote = common.obj(remote)
    return common.compact({
        "image": image,
        "type": common.text(kind, 50),
        "repository": common.text(repository, 1000),
        "subfolder": common.text(subfolder, 500),
        "packages": [{"registryType": "oci", "identifier": image}] if image else None,
        "category": common.text(category, 100),
        "tags": common.strings(tags),
        "remote": common.compact({"transport": common.text(remote.get("transport_type"), 50),
                                  "url": common.text(remote.get("url"), 1000)}),
        "disableNetwork": common.flag(where_from.get("disableNetwork")),
        "allowHosts": common.strings(where_from.get("allowHosts")),
        "secrets": [common.compact({"name": common.text(s.get("name"), 200), "env": common.text(s.get("env"), 200)})
                    for s in map(common.obj, common.items(where_from.get("secrets"))[:100])] or None,
        "env": [n for n in (common.text(e.get("name"), 200) for e in map(common.obj, common.items(where_from.get("env"))[:100])) if n],
        "volumes": common.strings(where_from.get("volumes")),
        **common.compact(extra),
    })


def docker_tools(raw, where, errors):
    """MCP tools from Docker's tool list, with `arguments[]` (or `parameters`) as the inputSchema."""
    converted = []
    for entry in common.items(raw):
        if isinstance(entry, dict) and entry.get("inputSchema") is None:
            schema = entry.get("parameters") if isinstance(entry.get("parameters"), dict) else None
            if schema is None and isinstance(entry.get("arguments"), list):
                schema = arguments_schema(entry["arguments"])
            entry = {**entry, "inputSchema": schema}
        converted.append(entry)
    return common.tools(converted, where, errors)


def arguments_schema(arguments):
    properties, required = {}, []
    for argument in arguments:
        if not isinstance(argument, dict) or not isinstance(argument.get("name"), str):
            continue
        prop = {"type": argument["type"]} if isinstance(argument.get("type"), str) else {}
        if isinstance(argument.get("desc"), str):
            prop["description"] = argument["desc"]
        if isinstance(argument.get("items"), dict):
            prop["items"] = argument["items"]
        properties[argument["name"]] = prop
        if argument.get("optional") is not True:
            required.append(argument["name"])
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema
