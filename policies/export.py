"""Recommended policies per server: decisions (policies.decisions) rendered in a format
(policies.formats), written safely, one file per server."""

import errno
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

from .decisions import decide, reads_allowed
from .formats import EXTENSIONS, SIDECAR, guess_claude_key, render
from ..catalogue.queries import server_tools


def policylayer_policy(server, tools, profile="balanced", overrides=None, flows=None):
    """A PolicyLayer policy.json document and its sidecar (reasons and pins), both dicts, for `server`
    and its classified tools (`flows`: the toxic flows to break, by default those inside the server)."""
    text, sidecar = render("policylayer", server, profile, decide(server, tools, profile, overrides, flows),
                           [t.get("classifier_version") for t in tools if t.get("classifier_version")])
    return json.loads(text), json.loads(sidecar)


def server_policy(db, server, fmt="policylayer", profile="balanced", overrides=None, server_as=None):
    """(policy text, sidecar text or None) for one server of the catalogue."""
    tools = server_tools(db, server)
    versions = [t.get("classifier_version") for t in tools if t.get("classifier_version")]
    return render(fmt, server, profile, decide(server, tools, profile, overrides), versions, server_as,
                  reads_allowed(server, profile, overrides))


def dumps(policy):
    return json.dumps(policy, indent=2, ensure_ascii=False) + "\n"


_UNSAFE = re.compile(r"[^a-z0-9._-]+")
# A kept name must not be one another name could be turned into: `x-1a2b3c4d` is what `X` becomes,
# `x.mcp-risk` is the sidecar of `x`. And Windows keeps these for devices, with any extension.
_LOOKS_DERIVED = re.compile(r"(-[0-9a-f]{8,64}|\.mcp-risk)$")
_WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def _digest(server):
    return hashlib.sha256(server.encode("utf-8", "surrogatepass")).hexdigest()


def safe_filename(server, suffix=".json", digits=8):
    """A file name for a server that is safe on every file system and unique per server name.

    Plain lowercase names are kept (`github` -> `github.json`); any other name is slugged and gets
    a short hash of the real name, so `GitHub` and `git/hub` can never collide. So does a plain
    name that looks like such a file (`github-1a2b3c4d`), like a Claude sidecar (`x.mcp-risk`) or
    like a Windows device (`con`, `nul.x`).
    """
    slug = _UNSAFE.sub("-", server.lower()).strip("-._")[:80].rstrip("-._") or "server"
    device = slug.split(".", 1)[0] in _WINDOWS_DEVICES
    if device:  # `nul.0-1a2b3c4d.json` would still be the device: `nul-0-1a2b3c4d.json` is not
        slug = slug.replace(".", "-", 1)
    if device or slug != server or _LOOKS_DERIVED.search(slug):
        slug += "-" + _digest(server)[:digits]
    return slug + suffix


def unique_filename(server, suffix, used):
    """safe_filename(), unless two servers' short hashes agree (a name found on purpose to take
    another's file): then the full hash. The name and its sidecar are added to `used`."""
    name = safe_filename(server, suffix)
    if name in used:
        name = safe_filename(server, suffix, digits=64)
    used.update((name, sidecar_name(name)))
    return name


def sidecar_name(policy_file):
    """Where the reasons and pins of a Claude Code settings file go: `github.json` -> `github.mcp-risk.json`."""
    stem, dot, _ = str(policy_file).rpartition(".")
    return (stem if dot else str(policy_file)) + SIDECAR


def _umask():
    mask = os.umask(0o022)  # only readable by setting it: set back at once
    os.umask(mask)
    return mask


def _mode_for(path):
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def write_atomically(path, text):
    """Write a file whole or not at all: a crash never leaves half a policy behind.

    The new file is renamed over the old, so what is there must be a regular file: a symlink is
    written through (a settings.json linked from a dotfiles repo stays linked), and a device, pipe
    or folder is refused rather than replaced by a file."""
    given = Path(path)
    path = Path(os.path.realpath(given)) if given.is_symlink() else given
    if path.exists() and not path.is_file():
        raise OSError(errno.EINVAL, f"cannot write {given}: not a regular file (a device, pipe or folder); "
                                    f"name a file, or leave -o out to print it")
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    except OSError as error:  # the error names the temporary file: name the user's path instead
        if isinstance(error, FileNotFoundError):
            where = "cannot create files in" if path.parent.is_dir() else "no such folder"
        else:
            where = error.strerror or str(error)
        raise OSError(error.errno, f"cannot write {given} ({where}: {path.parent})") from None
    try:
        # mkstemp makes the file 0600; a policy is read by a gateway's user or mounted into a container,
        # so it gets the mode of the file it replaces, or what the umask gives a new file.
        os.chmod(temporary, _mode_for(path))
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


# The flags a decision reads: hidden instructions, and the three legs of a toxic flow.
_DECIDING_FLAGS = ("suspicious_instructions", "untrusted_content", "private_data", "sends_data_out")


def export_policies(db, directory, progress=None, fmt="policylayer", profile="balanced", overrides=None,
                    claude_servers=None):
    """One policy file per server whose tools are known (plus a sidecar for PolicyLayer and Claude Code),
    and `_index.json` mapping servers to files. Returns the index entries.

    `claude_servers` maps catalogue server names to their keys in the user's Claude Code config (what
    `scan` reads from the config it probes); a server not in it gets a guessed key, and its index entry
    says `"claude_server_guessed": true`."""
    claude_servers = claude_servers or {}
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    # SQLite picks out the first pieces of evidence (all a reason quotes) and the flags that
    # matter here, sparing Python half a million JSON decodes on a large catalogue.
    marks = ", ".join(f"instr(c.flags, '\"{flag}\"') > 0" for flag in _DECIDING_FLAGS)
    cursor = db.execute(
        f"SELECT s.name, t.name, c.category, c.risk, c.confidence, {marks}, "
        "json_extract(c.evidence, '$[0]'), json_extract(c.evidence, '$[1]'), json_extract(c.evidence, '$[2]'), "
        "t.hash, c.classifier_version FROM tools t JOIN servers s ON s.id = t.server_id "
        "LEFT JOIN classifications c ON c.id = t.classification_id WHERE t.status = 'listed' ORDER BY s.name, t.name"
    )
    index = []
    current, tools = None, []

    used = {"_index.json"}

    def flush():
        if current is None:
            return
        index.append(_write_one(directory, current, tools, fmt, profile, overrides, None, claude_servers, used))
        if progress:
            progress(1)

    for server, tool, category, risk, confidence, *rest in cursor:
        marks, (*evidence, tool_hash, version) = rest[:len(_DECIDING_FLAGS)], rest[len(_DECIDING_FLAGS):]
        if server != current:
            flush()
            current, tools = server, []
        tools.append({"tool": tool, "category": category, "risk": risk, "confidence": confidence,
                      "flags": [flag for flag, on in zip(_DECIDING_FLAGS, marks) if on],
                      "evidence": [e for e in evidence if e], "hash": tool_hash, "classifier_version": version})
    flush()
    write_atomically(directory / "_index.json", json.dumps(index, indent=2, ensure_ascii=False) + "\n")
    return index


def _write_one(directory, server, tools, fmt, profile, overrides, flows, claude_servers, used):
    """Decide and render one server's policy in `fmt`, write it (and its sidecar) under a name unique
    in `used`; returns its index entry."""
    name = unique_filename(server, EXTENSIONS[fmt], used)
    decisions = decide(server, tools, profile, overrides, flows)
    text, sidecar = render(fmt, server, profile, decisions,
                           [t["classifier_version"] for t in tools if t.get("classifier_version")],
                           server_as=claude_servers.get(server), reads=reads_allowed(server, profile, overrides))
    write_atomically(directory / name, text)
    if sidecar is not None:
        write_atomically(directory / sidecar_name(name), sidecar)
    counts = {action: sum(1 for d in decisions if d.action == action) for action in ("allow", "ask", "deny", "hide")}
    entry = {"server": server, "file": name, "tools": len(tools), **counts,
             "rate_limited": sum(1 for d in decisions if d.action == "allow" and d.per_minute)}
    if fmt == "claude":
        entry.update(claude_server=claude_servers.get(server) or guess_claude_key(server),
                     claude_server_guessed=server not in claude_servers)
    return entry


def write_server_policies(directory, servers, fmt="policylayer", profile="balanced", overrides=None, flows=(),
                          claude_servers=None):
    """The policies of servers whose classified tools are at hand (what `scan` just probed), written
    as `export_policies` writes them but without a catalogue query: `servers` maps a name to its tool
    rows (tool, category, risk, confidence, flags, evidence, hash, classifier_version).

    `flows`: toxic flows across these servers (classifier.grades.Flow); each server's policy breaks
    those whose channel out it holds. `claude_servers` maps names to their keys in the user's Claude
    Code config; a name not in it gets a guessed key. Writes `_index.json` and returns its entries, as
    export_policies."""
    claude_servers = claude_servers or {}
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    used = {"_index.json"}
    index = [_write_one(directory, server, tools, fmt, profile, overrides, [f for f in flows if f.out.server == server],
                        claude_servers, used) for server, tools in servers.items()]
    write_atomically(directory / "_index.json", json.dumps(index, indent=2, ensure_ascii=False) + "\n")
    return index
