"""The `mcp-risk` command line: each command a thin layer over a library call."""

import csv
import functools
import io
import json
import sys

import click

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
    """Turn the library's errors about bad input into a one-line message and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (ManifestError, CatalogueError) as error:
            raise click.ClickException(str(error)) from None
        except OSError as error:
            where = f"{error.filename}: " if getattr(error, "filename", None) else ""
            raise click.ClickException(f"{where}{error.strerror or error}") from None

    return wrapper


def _progress(length, label):
    return click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True)


def _emit(rows, fmt, columns):
    """Rows (dicts) as a table, JSON lines or CSV on stdout."""
    if fmt == "json":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(cells)
        click.echo(out.getvalue(), nl=False)
        return
    from tabulate import tabulate  # only tables need it

    click.echo(tabulate([[_clip(c) for c in row] for row in cells], headers=columns))


def _cell(value):
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else value


def _clip(value, width=60):
    text = " ".join(str(value).split())
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

    manifests = list(read_snapshot(path))
    db = open_catalogue(db_path)
    with _progress(len(manifests), "Storing servers") as bar:
        with CrawlRun(db, "snapshot", kind="snapshot", location=path or "bundled") as run:
            run.store(manifests, progress=bar.update)
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
        click.echo(json.dumps(out, ensure_ascii=False))


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
        click.echo(f"{record['name']}  (sources: {', '.join(record['sources'])}; {len(record['tools'])} tools: {counts})")
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


@cli.command()
@click.argument("server")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@db_option
@reports_errors
def policy(server, output, db_path):
    """The recommended PolicyLayer policy.json for one server.

    Reads allowed, writes rate-limited, executes rate-limited with approval recommended,
    destructive tools hidden, financial tools denied, suspicious tools hidden; every decision
    with its reason under `x-mcp-risk`.
    """
    from .policies import dumps, server_policy, write_atomically

    text = dumps(server_policy(open_catalogue(db_path, create=False), server))
    if output:
        write_atomically(output, text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@cli.command("export-policies")
@click.argument("directory", type=click.Path(file_okay=False))
@db_option
@reports_errors
def export_policies(directory, db_path):
    """Write one policy.json per server into DIRECTORY, plus _index.json.

    File names are safe whatever a server is called: plain lowercase names are kept, others are
    slugged with a short hash of the real name. Existing files of the same names are replaced.
    """
    from .policies import export_policies as export

    db = open_catalogue(db_path, create=False)
    servers = db.execute("SELECT count(DISTINCT server_id) FROM tools WHERE status = 'listed'").fetchone()[0]
    with _progress(servers, "Writing policies") as bar:
        index = export(db, directory, progress=bar.update)
    hidden = sum(entry["hidden"] for entry in index)
    click.echo(f"wrote {len(index)} policies to {directory} ({hidden} tools hidden); index: {directory}/_index.json")
from .cli_crawl import register as _register_crawl; _register_crawl(cli, crawl)  # noqa: E402  (issue 5)
