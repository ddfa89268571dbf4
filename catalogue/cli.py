"""The `mcp-risk` command line: each command a thin layer over a library call."""

import csv
import functools
import io
import json
import os
import sys
import unicodedata

import click

from classifier.model import ModelError
from crawler import ManifestError

from .db import CatalogueError, open_catalogue

FORMATS = ("table", "json", "csv")


def db_option(command):
    return click.option(
        "--db", "db_path", default="catalogue.db", envvar="MCP_RISK_DB", show_default=True,
        type=click.Path(dir_okay=False), help="Catalogue database file (or set MCP_RISK_DB).",
    )(command)


def format_option(command):
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
        help="table for people; json or csv for scripts.",
    )(command)


def reports_errors(command):
    """Turn the library's errors about bad input into a one-line message and exit status 1.

    Messages quote the input they are about: its control characters are shown escaped, so a key
    like "\\r" or "\\x1b[2J" can neither break the line nor drive the terminal."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (ManifestError, CatalogueError, ModelError) as error:
            raise click.ClickException(_visible(str(error))) from None
        except BrokenPipeError:
            # The reader stopped (`mcp-risk search x | head`): not an error to report. Point stdout
            # at /dev/null so the interpreter's last flush does not fail again, and exit as SIGPIPE would.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)
        except OSError as error:
            where = f"{error.filename}: " if getattr(error, "filename", None) else ""
            raise click.ClickException(_visible(f"{where}{error.strerror or error}")) from None

    return wrapper


def _progress(length, label):
    return click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True)


_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def json_line(value):
    """One JSON line. U+0085, U+2028 and U+2029 are escaped too: JSON lets them through raw, but
    str.splitlines() and other line readers break a line at them. (They only occur inside strings.)"""
    return json.dumps(value, ensure_ascii=False).translate(_LINE_BREAKS)


def _emit(rows, fmt, columns):
    """Rows (dicts) as a table, JSON lines or CSV on stdout."""
    if fmt == "json":
        for row in rows:
            click.echo(json_line(row))
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    if fmt == "csv":
        # For scripts, the data as it is: click would strip anything that looks like an ANSI code
        # (`\x1b[31mdelete` would print as `delete`, another name), so it is told not to. On a
        # terminal, what could drive it is shown escaped, as in a table.
        terminal = sys.stdout.isatty()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows([[_visible(str(c)) for c in row] for row in cells] if terminal else cells)
        click.echo(out.getvalue(), nl=False, color=not terminal)
        return
    from tabulate import tabulate  # only tables need it

    click.echo(tabulate([[_clip(c) for c in row] for row in cells], headers=columns))


def _cell(value):
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else value


def _visible(text):
    """Text for a terminal: control, bidi and invisible characters shown as escapes (`\\x1b`,
    `\\u202e`), so a tool's name or description can neither send escape sequences to the terminal
    nor make itself look like something else. JSON and CSV output keep the data as it is."""
    if text.isprintable():
        return text
    return "".join(ascii(c)[1:-1] if unicodedata.category(c) in _HIDDEN else c for c in text)


_HIDDEN = ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")


def _clip(value, width=60):
    text = _visible(" ".join(str(value).split()))
    return text if len(text) <= width else text[: width - 1] + "…"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mcp-risk")
def cli():
    """mcp-risk: a risk catalogue of the tools MCP servers expose to AI agents.

    Crawl tool manifests, classify every tool (read, write, execute, destructive, financial; risk
    low to critical; flags; evidence), keep them in a SQLite catalogue, and export a recommended
    policy per server.

    \b
    Quick start:
      mcp-risk crawl snapshot            # the bundled snapshot: 24,071 real tools
      mcp-risk search "delete repository"
      mcp-risk export-policies policies/
    """


@cli.group()
def crawl():
    """Crawl a source of MCP tool manifests into the catalogue."""


@crawl.command("snapshot")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@db_option
@reports_errors
def crawl_snapshot(path, db_path):
    """Ingest, classify and store a snapshot of tool definitions.

    PATH is a JSON-lines file (gzipped or not) of tool rows, each with a `server`; without PATH,
    the bundled snapshot of 24,071 real tools from 2,567 servers. The file is checked whole before
    the catalogue is touched: a bad line changes nothing. Crawling the same data again adds nothing.
    """
    from crawler.sources.snapshot import read_snapshot

    from .store import CrawlRun

    from .cli_crawl import EXIT_LOCKED
    from .lock import CrawlLocked, crawl_lock

    manifests = list(read_snapshot(path))
    try:
        with crawl_lock(db_path):
            db = open_catalogue(db_path)
            with _progress(len(manifests), "Storing servers") as bar:
                with CrawlRun(db, "snapshot", kind="snapshot", location=path or "bundled") as run:
                    run.store(manifests, progress=bar.update)
    except CrawlLocked as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_LOCKED)
    counts = run.counts
    click.echo(
        f"snapshot: {counts.servers_seen} servers, {counts.tools_seen} tools seen; "
        f"{counts.tools_added} added, {counts.tools_changed} changed, {counts.tools_removed} removed; "
        f"{counts.classified} classified -> {db_path}"
    )


@cli.command("classify")
@click.option("--input", "-i", "input_file", required=True, type=click.File("r", encoding="utf-8"),
              help="JSON lines of MCP Tool objects (optional `id`, `server`), or one tools/list result; - for stdin.")
@reports_errors
def classify_command(input_file):
    """Classify tools without a catalogue: one JSON line out per tool, in input order.

    Each line: id (when given), server, name, category, risk, flags, confidence (0-1), evidence.
    """
    import classifier
    from crawler.sources.tools_file import read_tools

    try:
        text = input_file.read()
    except UnicodeDecodeError as error:
        raise click.ClickException(f"{input_file.name}: not UTF-8 text ({error.reason} at byte {error.start})")
    for tool in read_tools(text, input_file.name):
        result = classifier.classify(tool)
        out = {} if tool["id"] is None else {"id": tool["id"]}
        out.update(server=tool["server"], name=tool["name"], **result.as_dict())
        click.echo(json_line(out))


@cli.command()
@click.argument("text", required=False)
@click.option("--category", type=click.Choice(["read", "write", "execute", "destructive", "financial"]))
@click.option("--risk", type=click.Choice(["low", "medium", "high", "critical"]))
@click.option("--server", help="Only tools of this server (exact name).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@format_option
@db_option
@reports_errors
def search(text, category, risk, server, limit, fmt, db_path):
    """Full-text search over tool names and descriptions, best match first, with filters.

    TEXT uses words, not syntax: `mcp-risk search "delete repo"`. Without TEXT, lists the tools
    that pass the filters, riskiest first.
    """
    from . import queries

    db = open_catalogue(db_path, create=False)
    if server:
        queries.server_id(db, server)  # an unknown server is an error, not an empty result
    rows = queries.search(db, text, category=category, risk=risk, server=server, limit=limit)
    _emit(rows, fmt, ["server", "tool", "category", "risk", "confidence", "flags", "description"])


@cli.command()
@click.argument("server")
@format_option
@db_option
@reports_errors
def show(server, fmt, db_path):
    """One server: where it was seen and every tool with its category, risk and evidence."""
    from . import queries

    record = queries.show(open_catalogue(db_path, create=False), server)
    if fmt == "json":
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    if fmt == "table":
        counts = ", ".join(f"{n} {c}" for c, n in record["categories"].items() if n)
        click.echo(f"{_visible(record['name'])}  (sources: {_visible(', '.join(record['sources']))}; "
                   f"{len(record['tools'])} tools: {counts})")
        if record["description"]:
            click.echo(_clip(record["description"], 200))
        click.echo()
    for tool in record["tools"]:
        tool["evidence"] = (tool.get("evidence") or [""])[0]
    _emit(record["tools"], fmt, ["tool", "category", "risk", "confidence", "flags", "evidence"])


@cli.command()
@format_option
@db_option
@reports_errors
def stats(fmt, db_path):
    """Counts across the catalogue: servers, tools, categories, risks, flags and the last crawls."""
    from . import queries

    result = queries.stats(open_catalogue(db_path, create=False))
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    rows = [{"what": "servers", "name": "", "count": result["servers"]},
            {"what": "tools", "name": "", "count": result["tools"]}]
    for what in ("categories", "risks", "flags"):
        rows += [{"what": what[:-1] if what != "categories" else "category", "name": k, "count": v}
                 for k, v in result[what].items()]
    _emit(rows, fmt, ["what", "name", "count"])
    if fmt == "table" and result["crawls"]:
        click.echo()
        _emit(result["crawls"], fmt, ["source", "status", "finished_at", "tools_seen", "tools_added",
                                      "tools_changed", "tools_removed", "error_count"])


def policy_options(command):
    command = click.option("--overrides", type=click.Path(exists=True, dir_okay=False),
                           help="YAML or JSON file of decisions that win over the profile.")(command)
    command = click.option("--profile", type=click.Choice(["strict", "balanced", "permissive"]), default="balanced",
                           show_default=True, help="balanced follows the taxonomy's table.")(command)
    command = click.option("--format", "fmt", type=click.Choice(["policylayer", "intercept", "claude", "cedar"]),
                           default="policylayer", show_default=True, help="Which gateway or client reads the file.")(command)
    return command


def _load_overrides(path):
    from .decisions import Overrides, OverridesError

    try:
        return Overrides.load(path) if path else None
    except OverridesError as error:
        raise click.ClickException(_visible(str(error))) from None


@cli.command()
@click.argument("server")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@policy_options
@click.option("--claude-server", help="The server's name in your Claude Code config (claude format); default: its catalogue name.")
@db_option
@reports_errors
def policy(server, output, fmt, profile, overrides, claude_server, db_path):
    """The recommended policy for one server.

    \b
    Profiles (suspicious tools are hidden in all of them):
      balanced    read allow; write allow 30/min; execute allow 10/min, approval
                  recommended; destructive hidden; financial only with approval per call
      strict      read allow; write with approval; execute denied; destructive and
                  financial hidden
      permissive  read and write allow; execute 30/min; destructive and financial
                  with approval per call
    \b
    Formats: policylayer (policy.json), intercept (YAML), claude (settings.json
    permissions; reasons go to a .mcp-risk.json sidecar), cedar (ToolHive).
    A format that cannot ask for approval denies instead. Every decision carries its
    reason and the tool's definition hash, which `mcp-risk diff --policy` checks later.
    """
    from .policies import server_policy, sidecar_name, write_atomically

    text, sidecar = server_policy(open_catalogue(db_path, create=False), server, fmt, profile,
                                  _load_overrides(overrides), claude_server)
    if output:
        write_atomically(output, text)
        click.echo(f"wrote {output}", err=True)
        if sidecar is not None:
            write_atomically(sidecar_name(output), sidecar)
            click.echo(f"wrote {sidecar_name(output)} (reasons and pins)", err=True)
    else:
        click.echo(text, nl=False)


@cli.command("export-policies")
@click.argument("directory", type=click.Path(file_okay=False))
@policy_options
@db_option
@reports_errors
def export_policies(directory, fmt, profile, overrides, db_path):
    """Write one policy per server into DIRECTORY, plus _index.json.

    File names are safe whatever a server is called: plain lowercase names are kept, others are
    slugged with a short hash of the real name. Existing files of the same names are replaced.
    See `mcp-risk policy --help` for profiles and formats.
    """
    from .policies import export_policies as export

    rules = _load_overrides(overrides)
    db = open_catalogue(db_path, create=False)
    servers = db.execute("SELECT count(DISTINCT server_id) FROM tools WHERE status = 'listed'").fetchone()[0]
    with _progress(servers, "Writing policies") as bar:
        index = export(db, directory, progress=bar.update, fmt=fmt, profile=profile, overrides=rules)
    hidden = sum(entry["hide"] for entry in index)
    click.echo(f"wrote {len(index)} {fmt} policies to {directory} ({hidden} tools hidden); index: {directory}/_index.json")


@cli.command()
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False),
              help="A policy mcp-risk wrote (any format; for claude, its settings or .mcp-risk.json sidecar).")
@click.option("--since", help="A crawl run id (changes later crawls found) or an ISO time (changes seen after it).")
@click.option("--run", "run_id", type=int, help="Changes found by this crawl run.")
@click.option("--server", help="Only this server (with --since or --run).")
@click.option("--limit", type=click.IntRange(1, 1_000_000), help="At most this many changes (with --since or --run).")
@click.option("--exit-code", is_flag=True, help="Exit with status 1 when anything changed, as `git diff --exit-code`.")
@format_option
@db_option
@reports_errors
def diff(policy_file, since, run_id, server, limit, exit_code, fmt, db_path):
    """What changed since a policy was made, or since a crawl.

    With --policy: tools that are new (denied there by default), definitions that changed after the
    policy pinned their hash, risk that went up, tools gone. With --since or --run: what crawls
    added, changed (which fields, the description before and after, the risk before and after) or
    removed. A changed description is how a trusted tool turns malicious: it is caught here before
    it is trusted.
    """
    from . import diff as changes

    if sum(map(bool, (policy_file, since, run_id is not None))) != 1:
        raise click.UsageError("give one of --policy FILE, --since RUN_OR_TIME or --run RUN")
    db = open_catalogue(db_path, create=False)
    if policy_file:
        rows = changes.diff_policy(db, changes.load_pins(policy_file))
    else:
        if server:
            from .queries import server_id

            server_id(db, server)
        rows = changes.diff_since(db, since, server, run=run_id, limit=limit)
    if fmt == "table" and not rows:
        click.echo("no changes")
    elif fmt == "table":
        for row in rows:
            row["fields"] = ",".join(row.get("fields") or [])
        _emit(rows, fmt, ["server", "tool", "change", "fields", "risk_before", "risk", "note"])
    else:
        _emit(rows, fmt, ["server", "tool", "change", "fields", "risk_before", "risk", "category", "note"])
    if exit_code and rows:
        sys.exit(1)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (loopback by default).")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535))
@db_option
@reports_errors
def serve(host, port, db_path):
    """Browse the catalogue in Datasette: facets by category and risk, full-text search, and canned
    queries (critical tools per server, servers by risk, recently changed tools). Read-only."""
    from .serve import serve as run_server

    open_catalogue(db_path, create=False).conn.close()  # a missing or broken catalogue fails here, clearly
    click.echo(f"serving {db_path} at http://{host}:{port}/ (Ctrl-C stops)", err=True)
    run_server(db_path, host=host, port=port)


# Commands that live in modules of their own, which import this one for its helpers.
from .cli_crawl import register as register_crawl  # noqa: E402
from .cli_live import probe, scan  # noqa: E402
from .cli_model import evaluate, train  # noqa: E402

register_crawl(cli, crawl)
for _command in (scan, probe, train, evaluate):
    cli.add_command(_command)
