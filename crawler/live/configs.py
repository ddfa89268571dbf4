"""MCP client configs: the servers a user actually runs, as `ServerSpec`s.

Reads Claude Desktop and Cursor (`mcpServers`), Claude Code (`.mcp.json`, and `~/.claude.json` with
its per-project servers), Windsurf (`mcpServers`, `serverUrl`) and VS Code (`servers`, or `mcp.servers`
in settings; JSON with comments). A config is untrusted input: a bad file is a `ManifestError`, a bad
entry becomes a spec with a `problem`, reported like any other failure and never started.
"""

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..manifest import ManifestError, lone_surrogate, without_surrogates

REMOTE_TYPES = {"http": "http", "streamable-http": "http", "streamablehttp": "http", "sse": "sse"}


@dataclass
class ServerSpec:
    """How to reach one server: a command to start (stdio) or a URL (Streamable HTTP or SSE).

    `transport` is "stdio", "http", "sse", or None for a URL: Streamable HTTP, then legacy SSE.
    `env` and `headers` values may be secrets: they go to the server, never into results.
    """

    name: str
    origin: str
    command: str | None = None
    args: tuple = ()
    env: dict = field(default_factory=dict)
    url: str | None = None
    headers: dict = field(default_factory=dict)
    transport: str | None = None
    from_registry: bool = False  # built from registry data, not written by the user: needs --allow-exec
    problem: str | None = None  # why this entry cannot be probed
    config_key: str | None = None  # its key in the client config it came from (`name` may be made unique)

    @property
    def remote(self):
        return self.url is not None

    def launch_key(self):
        """What makes two entries the same server, whatever they are called."""
        return (self.command, self.args, tuple(sorted(self.env.items())), self.url,
                tuple(sorted(self.headers.items())), self.transport)


# -- reading one file -------------------------------------------------------------------------

def read_config(path, *, cwd=None, required=True):
    """The servers of one client config file, in file order.

    `cwd` picks the project of a Claude Code `~/.claude.json`. With `required=False` a file that
    has no servers section gives [] instead of an error (for --known-configs).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ManifestError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ManifestError(f"{path}: cannot read ({error})") from None
    document = parse_json(text, path)
    if not isinstance(document, dict):
        raise ManifestError(f"{path}: expected a JSON object with \"mcpServers\" or \"servers\", "
                            f"got {type(document).__name__}")
    sections = _server_sections(document, cwd)
    if not sections:
        if required:
            raise ManifestError(f"{path}: no \"mcpServers\" or \"servers\" object: not an MCP client config")
        return []
    base = _base_dir(path)
    specs = []
    for key, servers in sections:
        if not isinstance(servers, dict):
            raise ManifestError(f"{path}: \"{key}\" must be an object of servers by name, got {type(servers).__name__}")
        for name, entry in servers.items():
            spec = spec_from_entry(name, entry, origin=str(path), base_dir=base, workspace=base)
            if spec is not None:
                spec.config_key = name
                specs.append(spec)
    return specs


def parse_json(text, where):
    """JSON, or JSON with comments and trailing commas (VS Code's files)."""
    if not text.strip():
        raise ManifestError(f"{where}: empty file")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    except (ValueError, RecursionError) as error:  # a 5,000-digit number; nesting past the stack
        raise ManifestError(f"{where}: not usable JSON ({_why(error)})") from None
    try:
        return json.loads(_strip_jsonc(text))
    except json.JSONDecodeError as error:
        raise ManifestError(f"{where}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})") from None
    except (ValueError, RecursionError) as error:
        raise ManifestError(f"{where}: not usable JSON ({_why(error)})") from None


def _why(error):
    return "nested too deeply" if isinstance(error, RecursionError) else str(error)[:200]


def _strip_jsonc(text):
    """Drop // and /* */ comments and trailing commas, leaving strings as they are."""
    out, i, n = [], 0, len(text)
    while i < n:
        char = text[i]
        if char == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i:end + 1])
            i = end + 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(char)
            i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


def _server_sections(document, cwd):
    """(key, servers object) pairs of a config, whichever client wrote it."""
    sections = []
    for key in ("mcpServers", "servers"):
        if key in document:
            sections.append((key, document[key]))
    mcp = document.get("mcp")
    if isinstance(mcp, dict) and "servers" in mcp:  # VS Code settings.json
        sections.append(("mcp.servers", mcp["servers"]))
    projects = document.get("projects")
    if isinstance(projects, dict) and cwd is not None:  # ~/.claude.json: servers of the current project
        project = projects.get(str(Path(cwd).resolve()))
        if isinstance(project, dict) and isinstance(project.get("mcpServers"), dict) and project["mcpServers"]:
            sections.append((f"projects[{Path(cwd).resolve()}].mcpServers", project["mcpServers"]))
    return sections


def _base_dir(path):
    """The folder a config's relative paths mean: the project for .vscode/ and .cursor/ files."""
    parent = path.resolve().parent
    return parent.parent if parent.name in (".vscode", ".cursor") else parent


# -- one entry --------------------------------------------------------------------------------

def spec_from_entry(name, entry, *, origin, base_dir=None, workspace=None):
    """A ServerSpec from one config entry, None when the entry is disabled."""
    where = f"{origin}: server {name!r}"
    if isinstance(name, str) and lone_surrogate(name):  # a JSON key "\ud800": not a name to print or store
        return ServerSpec(name=without_surrogates(name), origin=origin, problem=f"{where}: its name is not valid Unicode")
    if not isinstance(entry, dict):
        return ServerSpec(name=name, origin=origin, problem=f"{where}: expected an object, got {type(entry).__name__}")
    if entry.get("disabled") is True or entry.get("enabled") is False:
        return None
    try:
        return _spec(name, entry, origin, where, base_dir, workspace)
    except ManifestError as error:
        return ServerSpec(name=name, origin=origin, problem=str(error))


def _spec(name, entry, origin, where, base_dir, workspace):
    kind = entry.get("type", entry.get("transport"))
    if kind is not None and not isinstance(kind, str):
        raise ManifestError(f"{where}: \"type\" must be a string")
    kind = (kind or "").lower().replace("_", "-")
    url = entry.get("url", entry.get("serverUrl"))
    command = entry.get("command")
    if command is not None and url is not None:
        raise ManifestError(f"{where}: has both \"command\" and \"url\"; give one")
    expand = _Expander(workspace)
    if url is not None:
        if kind and kind not in REMOTE_TYPES:
            raise ManifestError(f"{where}: type {kind!r} does not go with a \"url\" (use http or sse)")
        url = expand(_string(url, "url", where), where)
        if not re.match(r"https?://[^\s]+$", url, re.IGNORECASE):
            raise ManifestError(f"{where}: \"url\" must be an http:// or https:// URL")
        headers = {k: expand(v, where) for k, v in _string_map(entry.get("headers"), "headers", where).items()}
        return ServerSpec(name=name, origin=origin, url=url, headers=headers, transport=REMOTE_TYPES.get(kind))
    if command is None:
        raise ManifestError(f"{where}: has neither \"command\" (stdio) nor \"url\" (remote)")
    if kind and kind != "stdio":
        raise ManifestError(f"{where}: type {kind!r} needs a \"url\", not a \"command\"")
    command = expand(_string(command, "command", where), where)
    if not command.strip():
        raise ManifestError(f"{where}: \"command\" is empty")
    args = entry.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, (str, int, float)) and not isinstance(a, bool) for a in args):
        raise ManifestError(f"{where}: \"args\" must be an array of strings")
    args = [expand(str(a), where) for a in args]
    if any(_unusable(a) for a in args):
        raise ManifestError(f"{where}: \"args\" contains a NUL character or text that is not Unicode")
    env = {k: expand(v, where) for k, v in _string_map(entry.get("env"), "env", where).items()}
    command, args = _absolute(command, args, base_dir)
    return ServerSpec(name=name, origin=origin, command=command, args=tuple(args), env=env, transport="stdio")


def _unusable(text):
    """No process takes a NUL in an argument, nor half a UTF-16 surrogate pair (a JSON "\\ud800"):
    Path.resolve() and exec raise ValueError on them, not an error about the config."""
    return "\x00" in text or lone_surrogate(text)


def _string(value, what, where):
    if not isinstance(value, str):
        raise ManifestError(f"{where}: \"{what}\" must be a string, got {type(value).__name__}")
    if _unusable(value):
        raise ManifestError(f"{where}: \"{what}\" contains a NUL character or text that is not Unicode")
    return value


def _string_map(value, what, where):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ManifestError(f"{where}: \"{what}\" must be an object of strings")
    out = {}
    for key, item in value.items():
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str) or not key or "=" in key or _unusable(key + item):
            raise ManifestError(f"{where}: \"{what}\" must be an object of strings (bad entry {key!r})")
        out[key] = item
    return out


def _absolute(command, args, base_dir):
    """`./x` and `../x` in a command or its args mean the config's folder: servers run elsewhere."""
    if base_dir is None:
        return command, args

    def fix(value):
        if value.startswith(("./", "../")):
            return str((Path(base_dir) / value).resolve())
        return value

    return fix(command), [fix(a) for a in args]


class _Expander:
    """Claude Code's ${VAR} and ${VAR:-default}; VS Code's ${env:VAR}, ${userHome}, ${workspaceFolder}.

    Variables come from the user's own environment: the config names them, so they are the user's
    to pass. Anything else (VS Code's ${input:…} prompts) is left as written.
    """

    _PATTERN = re.compile(r"\$\{([^}]*)\}")

    def __init__(self, workspace):
        self.workspace = workspace

    def __call__(self, text, where):
        return self._PATTERN.sub(self._one, text)

    def _one(self, match):
        body = match.group(1)
        if body.startswith("env:"):
            return os.environ.get(body[4:], "")
        if body == "userHome":
            return str(Path.home())
        if body in ("workspaceFolder", "workspaceRoot") and self.workspace is not None:
            return str(self.workspace)
        name, sep, default = body.partition(":-")
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            value = os.environ.get(name)
            if value is not None:
                return value
            return default if sep else match.group(0)
        return match.group(0)


# -- several files ----------------------------------------------------------------------------

def known_config_paths(home=None, cwd=None, platform=None, environ=None):
    """The usual config files of MCP clients that exist here, as (client, path), user-wide then project.

    Arguments are for tests; by default the real home, working directory and platform.
    """
    home = Path(home or Path.home())
    cwd = Path(cwd or Path.cwd())
    platform = platform or sys.platform
    environ = os.environ if environ is None else environ
    if platform == "darwin":
        app_data = home / "Library" / "Application Support"
    elif platform.startswith("win"):
        app_data = Path(environ.get("APPDATA") or home / "AppData" / "Roaming")
    else:
        app_data = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    candidates = [
        ("claude-desktop", app_data / "Claude" / "claude_desktop_config.json"),
        ("claude-code", home / ".claude.json"),
        ("cursor", home / ".cursor" / "mcp.json"),
        ("vscode", app_data / "Code" / "User" / "mcp.json"),
        ("vscode", app_data / "Code" / "User" / "settings.json"),
        ("windsurf", home / ".codeium" / "windsurf" / "mcp_config.json"),
        ("claude-code", cwd / ".mcp.json"),
        ("cursor", cwd / ".cursor" / "mcp.json"),
        ("vscode", cwd / ".vscode" / "mcp.json"),
    ]
    seen, found = set(), []
    for client, path in candidates:
        if path.is_file() and path.resolve() not in seen:
            seen.add(path.resolve())
            found.append((client, path))
    return found


def unique_names(specs):
    """Specs with one entry per server: the same launch under the same name is probed once; a
    different server reusing a name is renamed `name (origin)` so neither hides the other."""
    by_name, out = {}, []
    for spec in specs:
        first = by_name.get(spec.name)
        if first is None:
            by_name[spec.name] = spec
            out.append(spec)
        elif first.launch_key() != spec.launch_key() or first.problem != spec.problem:
            spec.name = f"{spec.name} ({spec.origin})"
            if spec.name not in by_name:
                by_name[spec.name] = spec
                out.append(spec)
    return out
