"""Servers described by registry data (an official `server.json`), as `ServerSpec`s to probe.

What these specs run was written by a server's publisher, not by the user: every one is marked
`from_registry`, and the prober refuses to start it unless the caller allows it (`--allow-exec`).
Only what can run unattended is built: npm packages through `npx`, PyPI packages through `uvx`, and
remote Streamable HTTP / SSE endpoints whose URL needs no value from the user.
"""

import re

from ..manifest import ManifestError
from .configs import ServerSpec

_RUNNERS = {"npm": "npx", "pypi": "uvx"}
_MAX_ARGUMENTS = 64
_MAX_ARGUMENT_CHARS = 8192


def server_json_of(document):
    """The server.json inside a registry API item (`{"server": {...}, "_meta": ...}`) or a stored record."""
    if isinstance(document, dict):
        for key in ("server_json", "server"):  # a stored registry record; an API item
            if isinstance(document.get(key), dict):
                return document[key]
        if "packages" in document or "remotes" in document:
            return document
    return None


def specs_from_server_json(document, where):
    """One spec per runnable package (stdio) and remote of a server.json, best first.

    Raises ManifestError when the document is not a server.json or offers nothing runnable here.
    """
    server = server_json_of(document)
    if server is None:
        raise ManifestError(f"{where}: not a server.json (no \"packages\" or \"remotes\")")
    name = server.get("name") if isinstance(server.get("name"), str) and server.get("name") else None
    if name is None:
        raise ManifestError(f"{where}: server.json has no \"name\"")
    specs, skipped = [], []
    for index, package in enumerate(_list(server.get("packages"))):
        spec, why = _package_spec(name, package, f"{where}: packages[{index}]")
        specs.append(spec) if spec else skipped.append(why)
    for index, remote in enumerate(_list(server.get("remotes"))):
        spec, why = _remote_spec(name, remote, f"{where}: remotes[{index}]")
        specs.append(spec) if spec else skipped.append(why)
    if not specs:
        reasons = "; ".join(skipped) or "it lists no packages or remotes"
        raise ManifestError(f"{where}: nothing to probe for {name} ({reasons})")
    return specs


def dummy_value(name):
    """A stand-in for a variable the server requires (say, an API key) so it starts and lists its
    tools; plainly fake, so it never passes for a user's own value."""
    return f"mcp-risk-dummy-{re.sub(r'[^A-Za-z0-9_]', '_', name)[:40].lower()}"


def _list(value):
    return value if isinstance(value, list) else []


def _package_spec(name, package, where):
    if not isinstance(package, dict):
        return None, f"{where} is not an object"
    registry = package.get("registryType")
    identifier = package.get("identifier")
    runner = _RUNNERS.get(registry)
    if runner is None:
        return None, f"{where}: {registry} packages are not run here (npm and pypi are)"
    transport = package.get("transport") if isinstance(package.get("transport"), dict) else {}
    if transport.get("type", "stdio") != "stdio":
        return None, f"{where}: a {transport.get('type')} package needs its own port; not run here"
    if not isinstance(identifier, str) or not re.fullmatch(r"(@[\w.-]+/)?[\w.-]+", identifier):
        return None, f"{where}: package identifier {identifier!r} is not a plain package name"
    version = package.get("version")
    pinned = isinstance(version, str) and re.fullmatch(r"[\w.+-]+", version)
    if runner == "npx":
        args = ["-y", f"{identifier}@{version}" if pinned else identifier]
    else:
        args = [f"{identifier}=={version}" if pinned else identifier]
    arguments = _list(package.get("packageArguments"))
    if len(arguments) > _MAX_ARGUMENTS:
        return None, f"{where}: {len(arguments):,} packageArguments (more than {_MAX_ARGUMENTS}); not run"
    for argument in arguments:
        args += _argument(argument)
    if sum(len(a) for a in args) > _MAX_ARGUMENT_CHARS:
        return None, f"{where}: packageArguments longer than {_MAX_ARGUMENT_CHARS:,} characters; not run"
    env = {}
    for variable in _list(package.get("environmentVariables")):
        if isinstance(variable, dict) and isinstance(variable.get("name"), str):
            value = variable.get("value", variable.get("default"))
            if variable.get("isSecret") and variable.get("isRequired"):
                env[variable["name"]] = dummy_value(variable["name"])  # never a real secret of the user's
            elif isinstance(value, str) and "{" not in value and not variable.get("isSecret"):
                env[variable["name"]] = value
            elif variable.get("isRequired"):
                env[variable["name"]] = dummy_value(variable["name"])
    spec = ServerSpec(name=name, origin=f"registry {where}", command=runner, args=tuple(args), env=env,
                      transport="stdio", from_registry=True)
    return spec, None


def _argument(argument):
    """A package argument with a fixed value (or default); arguments that need the user are left out."""
    if not isinstance(argument, dict):
        return []
    value = argument.get("value", argument.get("default"))
    if not isinstance(value, str) or "{" in value:
        return []
    if argument.get("type") == "named" and isinstance(argument.get("name"), str):
        return [argument["name"], value]
    return [value]


def _remote_spec(name, remote, where):
    if not isinstance(remote, dict):
        return None, f"{where} is not an object"
    kind = {"streamable-http": "http", "sse": "sse"}.get(remote.get("type"))
    url = remote.get("url")
    if kind is None or not isinstance(url, str) or not re.match(r"https?://[^\s{}]+$", url):
        return None, f"{where}: not a usable remote (type {remote.get('type')!r}, url {url!r})"
    headers = {}
    for header in _list(remote.get("headers")):
        if not isinstance(header, dict) or not isinstance(header.get("name"), str):
            continue
        value = header.get("value", header.get("default"))
        if isinstance(value, str) and "{" not in value:
            headers[header["name"]] = value
        elif header.get("isRequired"):
            return None, f"{where}: needs header {header['name']} from the user"
    return ServerSpec(name=name, origin=f"registry {where}", url=url, headers=headers, transport=kind,
                      from_registry=True), None
