"""`mcp-risk scan` and `mcp-risk probe`: classify the servers a user actually runs.

Thin layers over `crawler.live` (start or connect, list tools) and the catalogue (store, classify,
policies). Everything a server says is untrusted: it is cleaned of control characters before it
reaches a terminal, and secrets from configs (env values, headers) are never printed or stored.
"""

import json
import re
import sys
import time
from pathlib import Path

import click

from ..catalogue.db import open_catalogue
from ..crawler import ManifestError
from .common import counted, db_option, emit, json_line, reports_errors, visible
from .policy import FORMATS as POLICY_FORMATS

RISK_ORDER = ("low", "medium", "high", "critical")
GRADE_ORDER = ("A", "B", "C", "D", "F")  # classifier.grades.GRADES
EXIT_RISK_FOUND = 3
EXIT_UNSCANNED = 4


def probe_options(command):
    """Limits and output options that `scan` and `probe` share."""
    options = [
        click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(0.1, 3600),
                     help="Seconds a server has from start to its whole tool list."),
        click.option("--no-network", is_flag=True,
                     help="Start stdio servers without network access (Linux namespaces via `unshare`; npx and "
                          "uvx then run from their cache only); an error where the platform cannot. "
                          "Remote servers are reached by mcp-risk itself."),
        click.option("--memory", "memory_mb", default=4096, show_default=True, type=click.IntRange(64, 1 << 20),
                     help="Address-space limit per server process, in MiB."),
        click.option("--cpu", "cpu_seconds", default=60, show_default=True, type=click.IntRange(1, 86400),
                     help="CPU-time limit per server process, in seconds."),
        click.option("--max-output", "max_output_mb", default=64, show_default=True, type=click.IntRange(1, 4096),
                     help="MiB a server may send before it is stopped."),
        click.option("--cache-dir", type=click.Path(file_okay=False),
                     help="Package caches (npm, uv) shared by sandboxed servers. "
                          "Default: mcp-risk's own under ~/.cache, never your own caches."),
        click.option("--policy-dir", type=click.Path(file_okay=False),
                     help="Write each scanned server's recommended policy here, in each --policy-format."),
        click.option("--policy-format", "policy_formats", multiple=True, metavar="FORMAT",
                     type=click.Choice([*POLICY_FORMATS, "all"]),
                     help="Which gateway or client reads the --policy-dir files: policylayer (policy.json, the "
                          "default), intercept (YAML), claude (Claude Code settings permissions, named by the "
                          "server's key in your config; `probe` takes it from --claude-server, else guesses it and warns), cedar (ToolHive), or all. Repeat for several: each "
                          "format then gets its own subfolder of --policy-dir (DIR/claude/NAME.json). "
                          "See `mcp-risk policy --help`."),
        click.option("--fail-on", type=click.Choice([*RISK_ORDER, *GRADE_ORDER]),
                     help=f"Exit {EXIT_RISK_FOUND} when a tool at or above this risk (or with suspicious "
                          f"instructions, whatever its risk) is found, or (given a grade, "
                          f"A-F) a server graded this or worse; "
                          f"exit {EXIT_UNSCANNED} when none is but a server could not be scanned (its risk is unknown). For CI."),
        click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
                     help="table for people; json: one line per server, with its tools."),
        db_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command()
@click.argument("configs", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--known-configs", is_flag=True,
              help="Also read the usual config files of Claude Desktop, Claude Code, Cursor, VS Code and Windsurf.")
@click.option("-j", "--concurrency", default=8, show_default=True, type=click.IntRange(1, 64),
              help="Servers probed at the same time.")
@probe_options
@reports_errors
def scan(configs, known_configs, **options):
    """Probe every server of MCP client configs, classify their tools, store them.

    CONFIG is a Claude Desktop or Cursor config (`mcpServers`), a Claude Code `.mcp.json`, or a
    VS Code `mcp.json` (`servers`). Each server is started (stdio: `command`, `args`, `env`) or
    connected to (`url`, `headers`), asked for all its tools over MCP, and every tool is classified.
    Prints a table per server; one bad server never stops the others. Exit 1 when none could be
    probed.

    Each stdio server runs contained: only PATH and the env its config names, a temporary home
    and working directory, CPU, memory and output limits, a wall-clock timeout; all its processes
    are killed afterwards. Servers are probed in parallel. Results go into the catalogue (source
    `live`); env values and headers never do.

    \b
      mcp-risk scan ~/.cursor/mcp.json
      mcp-risk scan --known-configs --fail-on critical --policy-dir out/scan/
      mcp-risk scan .mcp.json --policy-dir out/scan/ --policy-format all
    """
    from ..crawler.live import known_config_paths, read_config, unique_names

    specs, locations = [], []
    for path in configs:
        specs += read_config(path, cwd=Path.cwd())
        locations.append(str(path))
    if known_configs:
        found = known_config_paths()
        for client, path in found:
            specs += read_config(path, cwd=Path.cwd(), required=False)
            locations.append(str(path))
            click.echo(f"reading {client} config {path}", err=True)
        if not found and not configs:
            raise ManifestError("no MCP client config found in the usual places; name a CONFIG file")
    elif not configs:
        raise click.UsageError("name CONFIG files, or pass --known-configs")
    specs = unique_names(specs)
    if not specs:
        click.echo("no servers in " + ", ".join(locations), err=True)
        return
    results = _run(specs, ", ".join(locations), allow_exec=False, **options)
    if not any(result.ok for result in results):
        sys.exit(1)  # nothing scanned is a failed scan (each server's error is printed above)


@click.command()
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("--url", help="A remote server: Streamable HTTP, falling back to legacy SSE.")
@click.option("--transport", type=click.Choice(["http", "sse"]), help="Only this transport for --url.")
@click.option("-H", "--header", "headers", multiple=True, metavar="'NAME: VALUE'", help="HTTP header for --url (repeatable).")
@click.option("-e", "--env", "env", multiple=True, metavar="NAME=VALUE",
              help="Environment variable for the server (repeatable); nothing else of yours is passed.")
@click.option("--name", help="Name in the catalogue (default: the package or script in COMMAND, or the URL's host).")
@click.option("--server-json", type=click.Path(dir_okay=False),
              help="A registry server.json: run its npm (npx) or PyPI (uvx) package, or connect to its remote.")
@click.option("--from-catalogue", "catalogue_name", metavar="NAME",
              help="A server crawled from a registry into the catalogue: probe it as its record says.")
@click.option("--claude-server", "claude_key", metavar="KEY",
              help="The server's key in your Claude Code config (mcpServers), which names its rules in a "
                   "--policy-format claude file (mcp__KEY__tool); guessed from the name otherwise.")
@click.option("--allow-exec", is_flag=True,
              help="Allow running what registry data says to run (--server-json, --from-catalogue). Never the default.")
@probe_options
@reports_errors
def probe(command, url, transport, headers, env, name, server_json, catalogue_name, claude_key, allow_exec, **options):
    """Probe one server: classify its tools, store them. Exit 1 when it cannot be probed.

    \b
      mcp-risk probe -- npx -y @modelcontextprotocol/server-memory
      mcp-risk probe --url https://example.com/mcp -H 'Authorization: Bearer …'
      mcp-risk probe --server-json server.json --allow-exec

    Put COMMAND after `--` so its own options are not read as ours. The server runs contained,
    as in `mcp-risk scan`.
    """
    from ..crawler.live import spec_from_entry, specs_from_server_json

    given = [bool(command), bool(url), bool(server_json), bool(catalogue_name)]
    if sum(given) != 1:
        raise click.UsageError("give one of: COMMAND (after --), --url, --server-json, --from-catalogue")
    if url and not re.match(r"https?://[^/\s]", url, re.IGNORECASE):
        raise click.UsageError(f"--url {visible(url)!r} is not an http:// or https:// URL")
    if not url and (headers or transport):
        raise click.UsageError("--header and --transport go with --url")
    if not command and env:
        raise click.UsageError("--env goes with a COMMAND")
    if claude_key and not options.get("policy_dir"):
        raise click.UsageError("--claude-server goes with --policy-dir")
    if server_json or catalogue_name:
        if server_json:
            from ..crawler.live.configs import parse_json

            try:
                text = Path(server_json).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise ManifestError(f"{server_json}: cannot read ({error})") from None
            document, where = parse_json(text, server_json), server_json
        else:
            document, where = _registry_record(options["db_path"], catalogue_name), f"catalogue record of {catalogue_name}"
        spec = specs_from_server_json(document, where)[0]
        if name:
            spec.name = name
        spec.config_key = claude_key or spec.config_key
        if not allow_exec:
            from ..crawler.live.probe import refusal

            raise ManifestError(f"{spec.name} {refusal(spec)}")
        _exit_if_failed(_run([spec], where, allow_exec=True, concurrency=1, **options))
        return
    entry = {"env": _pairs(env, "=", "--env")}
    if url:
        entry.update(url=url, headers=_pairs(headers, ":", "--header"))
        if transport:
            entry["type"] = transport
    else:
        entry.update(command=command[0], args=list(command[1:]))
    spec = spec_from_entry(name or _default_name(command, url), entry, origin="command line", base_dir=Path.cwd())
    if spec.problem:
        raise ManifestError(spec.problem.replace("command line: ", "", 1))
    spec.config_key = claude_key or spec.config_key
    _exit_if_failed(_run([spec], "command line", allow_exec=False, concurrency=1, **options))


def _exit_if_failed(results):
    # One server asked for and not probed: the command failed (its error is printed above).
    if not results[0].ok:
        sys.exit(1)


# -- the shared run ---------------------------------------------------------------------------

def _run(specs, location, *, allow_exec, timeout, concurrency, no_network, memory_mb, cpu_seconds,
         max_output_mb, cache_dir, policy_dir, policy_formats, fail_on, fmt, db_path):
    if policy_formats and not policy_dir:
        raise click.UsageError("--policy-format goes with --policy-dir")
    from ..crawler.live import Limits, probe_servers

    limits = Limits(timeout=timeout, cpu_seconds=cpu_seconds, memory_bytes=memory_mb << 20,
                    max_output_bytes=max_output_mb << 20, no_network=no_network)
    started = time.perf_counter()
    click.echo(f"probing {len(specs)} server{'s' if len(specs) != 1 else ''}…", err=True)
    results = probe_servers(specs, limits, concurrency=concurrency, allow_exec=allow_exec,
                            cache_dir=Path(cache_dir) if cache_dir else None, progress=_progress,
                            meanwhile=lambda: _prepare(db_path))
    from ..catalogue.store import CrawlRun  # after the servers: nothing heavy before they start

    db = open_catalogue(db_path)
    with CrawlRun(db, "live", kind="live", location=location) as run:
        run.store([r.manifest() for r in results])
        for result in results:
            if not result.ok:
                run.note_error(f"{result.name}: {result.error}")
    classified = {r.name: _classified(db, r) for r in results if r.ok}
    from ..classifier.grades import grade_config

    config = grade_config(classified)  # the config's servers are one agent's tools
    if policy_dir:
        keys = {r.name: r.spec.config_key for r in results if r.ok and r.spec.config_key}
        _write_policies(policy_dir, policy_formats, classified, config.all_flows(), keys)
    for result in results:
        _show(result, classified.get(result.name), fmt, config)
    if fmt == "table":
        _show_grades(config)
    _summary(results, classified, time.perf_counter() - started, db_path)
    _gate(fail_on, results, classified, config)
    return results


def _prepare(db_path):
    """While the servers boot: what storing and classifying their tools will need, loaded (and a new
    catalogue created) ahead, so that the wait after the last server is only the work itself."""
    from ..catalogue import queries, store  # noqa: F401
    from ..classifier import current_version
    from ..classifier import grades  # noqa: F401

    current_version()  # loads the classifier's rules and model
    open_catalogue(db_path).conn.close()


def _show_grades(config):
    """After the tools: each server's grade with its worst reason, then every flow across servers."""
    if not config.servers:
        return
    click.echo("\n-- grades")
    for name, graded in config.servers.items():
        worst = graded.reasons[0]
        tools = ", ".join(_clean(t) for t in worst.tools[:6]) + (" …" if len(worst.tools) > 6 else "")
        click.echo(f"   {graded.grade}  {_clean(name)}: {_clean(worst.says)}: {tools}")
    if config.flows:
        click.echo(f"\n-- toxic flows across servers ({len(config.flows)})")
        for flow in config.flows:
            click.echo("   " + _clean(flow.describe(with_server=True)))


def _progress(result):
    if result.ok:
        click.echo(f"  ok    {_clean(result.name)}: {counted(len(result.tools), 'tool')} in {result.seconds:.2f} s", err=True)
    else:
        click.echo(f"  FAIL  {_clean(result.name)}: {_clean(result.error)}", err=True)


def _classified(db, result):
    """This probe's tools as the catalogue classified them, riskiest first."""
    from ..catalogue.queries import server_tools

    names = {t["name"] for t in result.tools}
    rows = [row for row in server_tools(db, result.name) if row["tool"] in names]
    rank = {risk: i for i, risk in enumerate(RISK_ORDER)}
    rows.sort(key=lambda row: ("suspicious_instructions" not in (row.get("flags") or []),
                               -rank.get(row["risk"], -1), row["tool"]))
    return rows


def _write_policies(directory, formats, classified, flows, claude_keys):
    """Each server's policy in each format, breaking every toxic flow of the config whose channel out
    it holds. Claude Code rules are named by the server's key in the config it came from."""
    from ..policies.export import write_server_policies

    formats = POLICY_FORMATS if "all" in formats else tuple(dict.fromkeys(formats or ("policylayer",)))
    for fmt in formats:
        folder = Path(directory) / fmt if len(formats) > 1 else Path(directory)
        index = write_server_policies(folder, classified, fmt, flows=flows, claude_servers=claude_keys)
        for entry in index:
            if entry.get("claude_server_guessed"):
                click.echo(f"warning: {_clean(entry['server'])}: its key in your Claude Code config was guessed as "
                           f"{_clean(entry['claude_server'])!r}", err=True)
        limited = sum(entry["rate_limited"] for entry in index)
        if fmt in UNLIMITED and limited:
            click.echo(f"warning: {UNLIMITED[fmt]} cannot rate-limit: {limited} rate-limited "
                       f"tool{'s are' if limited != 1 else ' is'} allowed without a limit", err=True)
        click.echo(f"wrote {len(index)} {fmt} polic{'y' if len(index) == 1 else 'ies'} to {folder} "
                   f"(index: {folder / '_index.json'})", err=True)


# Formats with no way to say a rate limit (as cli.policy.UNLIMITED).
UNLIMITED = {"policylayer": "policy.json (as documented)", "claude": "Claude Code", "cedar": "Cedar"}


def _show(result, rows, fmt, config):
    if fmt == "json":
        graded = config.servers.get(result.name)
        out = {"server": result.name, "ok": result.ok, "error": result.error, "transport": result.transport,
               "protocol_version": result.protocol_version, "server_info": result.server_info,
               "instructions": result.instructions, "seconds": round(result.seconds, 3),
               "warnings": result.warnings,
               "tools": [{k: row[k] for k in ("tool", "category", "risk", "confidence", "flags", "evidence")}
                         for row in rows or []],
               "grade": graded.grade if graded else None,
               "reasons": [r.as_dict() for r in graded.reasons] if graded else [],
               "flows": [f.as_dict() for f in graded.flows] if graded else [],
               # flows across the config's servers whose channel out is this server's
               "config_flows": [f.as_dict() for f in config.flows if f.out.server == result.name]}
        click.echo(json_line(out))
        return
    if not result.ok:
        click.echo(f"\n== {_clean(result.name)}  FAILED: {_clean(result.error)}")
        return
    info = result.server_info or {}
    who = " ".join(_clean(info.get(k, "")) for k in ("name", "version")).strip() or "unnamed server"
    click.echo(f"\n== {_clean(result.name)}  ({result.transport} · {who} · protocol {result.protocol_version} · "
               f"{counted(len(rows), 'tool')} · {result.seconds:.2f} s)")
    for warning in result.warnings:
        click.echo(f"   note: {_clean(warning)}")
    if rows:
        table = [{"tool": _clean(row["tool"]), "category": row["category"], "risk": row["risk"],
                  "confidence": row["confidence"], "evidence": _clean(_top_evidence(row))} for row in rows]
        emit(table, "table", ["tool", "category", "risk", "confidence", "evidence"])


def _top_evidence(row):
    evidence = [e for e in row.get("evidence") or [] if not e.startswith("against:")]
    return evidence[0] if evidence else ""


def _summary(results, classified, seconds, db_path):
    failed = sum(not r.ok for r in results)
    risks = {risk: 0 for risk in reversed(RISK_ORDER)}
    for rows in classified.values():
        for row in rows:
            if row["risk"] in risks:
                risks[row["risk"]] += 1
    counts = ", ".join(f"{n} {risk}" for risk, n in risks.items() if n) or "none"
    click.echo(f"\n{counted(len(results), 'server')}: {len(results) - failed} ok, {failed} failed; "
               f"{counted(sum(risks.values()), 'tool')} ({counts}) in {seconds:.2f} s -> {db_path}", err=True)


def _gate(fail_on, results, classified, config):
    if not fail_on:
        return
    if fail_on in GRADE_ORDER:
        at = GRADE_ORDER.index(fail_on)
        hits = [f"{name} ({g.grade})" for name, g in config.servers.items() if GRADE_ORDER.index(g.grade) >= at]
        if config.flows and fail_on == "F":
            hits.append(f"{len(config.flows)} toxic flow(s) across servers")
        if hits:
            shown = ", ".join(_clean(h) for h in hits[:5]) + (" …" if len(hits) > 5 else "")
            click.echo(f"fail-on {fail_on}: {len(hits)} at grade {fail_on} or worse: {shown}", err=True)
            sys.exit(EXIT_RISK_FOUND)
    else:
        _gate_risk(fail_on, classified)
    unscanned = [r.name for r in results if not r.ok]
    if unscanned:
        click.echo(f"fail-on {fail_on}: not scanned, risk unknown: {', '.join(_clean(n) for n in unscanned)}", err=True)
        sys.exit(EXIT_UNSCANNED)


def _gate_risk(fail_on, classified):
    threshold = RISK_ORDER.index(fail_on)
    # A tool whose description instructs the model is hidden by every policy whatever its risk
    # (taxonomy: default policies): a gate at any risk stops at it too.
    hits = [f"{server}/{row['tool']}" + (" (suspicious instructions)" if suspicious else "")
            for server, rows in classified.items() for row in rows
            if (suspicious := "suspicious_instructions" in (row.get("flags") or []))
            or (row["risk"] in RISK_ORDER and RISK_ORDER.index(row["risk"]) >= threshold)]
    if hits:
        shown = ", ".join(_clean(h) for h in hits[:5]) + (" …" if len(hits) > 5 else "")
        click.echo(f"fail-on {fail_on}: {len(hits)} tool(s) at or above {fail_on}: {shown}", err=True)
        sys.exit(EXIT_RISK_FOUND)


# -- small helpers ----------------------------------------------------------------------------

def _clean(text):
    """Server text made safe for a terminal: control, bidi and invisible characters shown escaped
    (never blanked: `list\u200bnotes` must not pass for `list notes`)."""
    return visible(str(text or ""))


def _pairs(items, separator, option):
    out = {}
    for item in items:
        key, sep, value = item.partition(separator)
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not NAME{separator}VALUE", param_hint=option)
        out[key.strip()] = value.strip() if separator == ":" else value
    return out


_LAUNCHERS = {"npx", "uvx", "uv", "pipx", "node", "deno", "bun", "bunx", "run", "tool", "exec", "docker", "-m"}


def _default_name(command, url):
    """What the user would call this server: the package or script a launcher runs, or the URL's host."""
    if url:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        return (parts.hostname or url) + (parts.path.rstrip("/") if parts.path not in ("", "/", "/mcp", "/sse") else "")
    for word in command:
        base = Path(word).name
        if word.startswith("-") or base in _LAUNCHERS or re.fullmatch(r"python[0-9.]*", base):
            continue
        return re.sub(r"(@[\w.+-]+|==[\w.+-]+)$", "", word) if word.startswith("@") or "==" in word else base
    return Path(command[0]).name


def _registry_record(db_path, name):
    """The server.json that a registry crawl stored for `name`."""
    from ..crawler.live.registry import server_json_of

    from ..catalogue.queries import server_id

    db = open_catalogue(db_path, create=False)
    sid = server_id(db, name)
    for (record,) in db.execute("SELECT record FROM server_sources WHERE server_id = ? AND record IS NOT NULL", [sid]):
        try:
            value = json.loads(record)
        except ValueError:
            continue
        for candidate in (value, value.get("server_json") if isinstance(value, dict) else None):
            if server_json_of(candidate) is not None:
                return candidate
    raise ManifestError(f"{name}: the catalogue has no registry record with packages or remotes for it")


COMMANDS = (scan, probe)
