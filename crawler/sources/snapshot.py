"""The bundled snapshot: real tool definitions of 2,559 servers, read offline (see data/snapshot)."""

import gzip
import json
import os
from pathlib import Path

from ..manifest import ManifestError, ServerManifest, lone_surrogate, normalize_tool

NAME = "snapshot"


def default_path():
    """data/snapshot/tools.jsonl.gz beside the code, or $MCP_RISK_SNAPSHOT."""
    override = os.environ.get("MCP_RISK_SNAPSHOT")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "data" / "snapshot" / "tools.jsonl.gz"


def _open(path):
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    if gzipped:
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def read_snapshot(path=None):
    """Yield one ServerManifest per server of a snapshot file (JSON lines, gzipped or not).

    Each line is a tool row with a `server` field (the mcp-tool-datasets shape, or an MCP Tool
    object plus `server`). Rows of one server need not be adjacent. Raises ManifestError naming
    the file and line of the first bad row; nothing is yielded before the whole file is read.
    """
    path = Path(path) if path else default_path()
    servers = {}
    try:
        with _open(path) as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ManifestError(f"{where}: not valid JSON ({error.msg} at column {error.colno})") from None
                except (ValueError, RecursionError) as error:  # 5,000-digit numbers; nesting past the stack
                    why = "nested too deeply" if isinstance(error, RecursionError) else str(error)[:200]
                    raise ManifestError(f"{where}: not usable JSON ({why})") from None
                if isinstance(row, list):
                    raise ManifestError(f"{where}: a JSON array, but a snapshot is JSON lines, one tool object per "
                                        f"line (`mcp-risk crawl file` reads an array of tools)")
                if not isinstance(row, dict):
                    raise ManifestError(f"{where}: expected a JSON object, got {type(row).__name__}")
                server = row.get("server")
                if not isinstance(server, str) or not server.strip():
                    raise ManifestError(f"{where}: row has no \"server\" (a non-empty string)")
                if lone_surrogate(server):
                    raise ManifestError(f"{where}: \"server\" is not valid Unicode (a lone UTF-16 surrogate)")
                tool = normalize_tool(row, where)
                entry = servers.setdefault(server, {"tools": {}, "origins": set()})
                entry["tools"][tool["name"]] = tool
                origin = row.get("source")
                if isinstance(origin, str) and not lone_surrogate(origin):
                    entry["origins"].add(origin)
    except ManifestError:
        raise
    # ValueError: a NUL in the path
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile, ValueError) as error:
        raise ManifestError(f"{path}: cannot read ({error})") from None
    if not servers:
        raise ManifestError(f"{path}: empty snapshot, no tool rows in it")
    for name, entry in servers.items():
        yield ServerManifest(
            name=name,
            source=NAME,
            tools=list(entry["tools"].values()),
            meta={"dataset_sources": sorted(entry["origins"])},
        )
