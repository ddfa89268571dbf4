"""Live probing: start or connect to the MCP servers a user runs and list their tools.

A source like the others (results become `ServerManifest`s) but one that runs untrusted code, so
everything here is about containment: see `sandbox`. It never touches the catalogue.

    configs   client config files -> ServerSpec
    registry  an official server.json -> ServerSpec (to run only with --allow-exec)
    sandbox   start a server process contained, and kill all of it afterwards
    client    speak MCP to one server (the official SDK), list every page of tools
    probe     many servers in parallel, bounded; each failure isolated
"""

from .configs import ServerSpec, known_config_paths, read_config, spec_from_entry, unique_names
from .probe import DEFAULT_CONCURRENCY, probe_servers
from .registry import specs_from_server_json
from .result import ProbeResult
from .sandbox import Limits, default_cache_dir

__all__ = [
    "DEFAULT_CONCURRENCY",
    "Limits",
    "ProbeResult",
    "ServerSpec",
    "default_cache_dir",
    "known_config_paths",
    "probe_servers",
    "read_config",
    "spec_from_entry",
    "specs_from_server_json",
    "unique_names",
]
