"""`mcp-risk crawl snapshot|registry|docker|glama|smithery|awesome|file` and `mcp-risk crawl --config
FILE`: thin layers over `crawler` (fetch pages) and `catalogue.crawling` (store them).

Heavy imports (httpx, hishel) happen inside the commands, so `mcp-risk --help` stays quick.
"""

import signal
import sys

import click

from .common import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_LOCKED, EXIT_OK, EXIT_PARTIAL, clip, counted, db_option,
                     progress_bar, reports_errors)

EXIT_BY_STATUS = {"ok": EXIT_OK, "skipped": EXIT_OK, "partial": EXIT_PARTIAL, "failed": EXIT_FAILED,
                  "interrupted": EXIT_INTERRUPTED}

GROUP_HELP = """Crawl sources of MCP servers and tool manifests into the catalogue.

\b
  mcp-risk crawl registry                  the official MCP registry (or --url another)
  mcp-risk crawl docker | glama | smithery | awesome
  mcp-risk crawl file tools.json ...       local files
  mcp-risk crawl live --allow-exec         probe registry servers for their tools
  mcp-risk crawl snapshot                  the bundled offline snapshot
  mcp-risk crawl --config crawl.toml       every source a scheduled job lists

Crawls are polite (per-host rate limit and concurrency, retries with backoff honouring
Retry-After, an HTTP cache beside the catalogue so unchanged pages cost a 304), incremental
(the registry asks only for what changed since the last complete crawl) and resumable (each
page is stored with its checkpoint; a killed crawl resumes where it stopped). One crawl at a
time per catalogue (a lock file beside it).

\b
Exit status:
  0    every source crawled completely (a skipped source says why on stderr)
  1    bad input: unreadable config or file, unusable catalogue
  2    usage error
  3    partial: a page, entry or limit was logged in the crawl run and the rest stored;
       the next crawl resumes
  4    failed: a source could not be crawled at all (unreachable, HTTP errors after retries)
  5    locked: another crawl is writing this catalogue
  130  interrupted (Ctrl-C, SIGTERM); the next crawl resumes where this one stopped
"""


class Terminated(KeyboardInterrupt):
    """SIGTERM (systemd stopping the job, a timeout): stop like Ctrl-C, recording the run as interrupted."""


def _on_sigterm(signum, frame):
    raise Terminated()


def crawl_options(command):
    """Politeness and limits, shared by every HTTP source."""
    options = [
        click.option("--rate", type=click.FloatRange(min=0), default=150, show_default=True,
                     help="Requests per minute per host (the official registry allows 180); 0: no limit."),
        click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True,
                     help="Requests in flight per host."),
        click.option("--timeout", type=click.FloatRange(min=0.01), default=30.0, show_default=True,
                     help="Seconds to connect, and to wait between bytes of a response."),
        click.option("--attempts", type=click.IntRange(1, 20), default=5, show_default=True,
                     help="Tries per request on timeouts, 429 and 5xx (backoff with jitter; Retry-After honoured)."),
        click.option("--max-bytes", type=click.IntRange(min=1024), default=64 * 1024 * 1024, show_default=True,
                     help="Largest response accepted, in bytes."),
        click.option("--max-pages", type=click.IntRange(min=1), help="Stop after this many pages (resumable)."),
        click.option("--max-time", type=click.FloatRange(min=0.01), help="Stop after this many seconds (resumable)."),
        click.option("--no-cache", is_flag=True, help="Do not use the HTTP cache kept beside the catalogue."),
        click.option("--name", "source_name", help="Name of this source in the catalogue (default: its kind, "
                                                   "plus the host when not the default URL)."),
        click.option("-q", "--quiet", is_flag=True, help="No progress on stderr; the summary still prints."),
        db_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _http_options(db_path, *, rate, concurrency, timeout, attempts, max_bytes, no_cache):
    from ..crawler.http import HttpOptions

    from ..catalogue.crawling import cache_path

    return HttpOptions(rate_per_minute=rate or None, concurrency_per_host=concurrency, read_timeout=timeout,
                       connect_timeout=min(timeout, 10.0), attempts=attempts, max_bytes=max_bytes,
                       cache_path=None if (no_cache or db_path == ":memory:") else cache_path(db_path))


def _run_single(kind, options, settings):
    """Build the source and crawl it with the command line's settings."""
    from ..crawler.config import make_source
    from ..crawler.pages import Limits

    db_path = settings.pop("db_path")
    quiet = settings.pop("quiet")
    name = settings.pop("source_name")
    limits = Limits(max_pages=settings.pop("max_pages"), max_seconds=settings.pop("max_time"))
    http = _http_options(db_path, **settings)
    source = make_source(kind, name=name, **options)
    _crawl(db_path, [(source, http, limits)], quiet)


def _crawl(db_path, entries, quiet):
    """Crawl every (source, HttpOptions, Limits) into the catalogue under the crawl lock, then exit."""
    from ..catalogue.crawling import crawl_source, worst
    from ..catalogue.db import open_catalogue
    from ..catalogue.lock import CrawlLocked, crawl_lock

    results = []
    progress = None if quiet or not sys.stderr.isatty() else _Progress()
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    interrupted = False
    made_caches = []  # an in-memory catalogue's server caches: nothing that outlives it needs them
    try:
        with crawl_lock(db_path):
            db = open_catalogue(db_path)
            for source, http, limits in entries:
                if getattr(source, "kind", None) == "live" and source.cache_dir is None:
                    source.cache_dir = _server_cache(db_path)
                    if db_path == ":memory:":
                        made_caches.append(source.cache_dir)
                try:
                    result = crawl_source(db, source, options=http, limits=limits, progress=progress)
                except KeyboardInterrupt:
                    interrupted = True
                    if progress:
                        progress.clear()
                    click.echo(f"{source.name}: interrupted; the next crawl resumes where this one stopped", err=True)
                    break
                if progress:
                    progress.clear()
                results.append(result)
                _summary(result, db_path)
    except CrawlLocked as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_LOCKED)
    finally:
        signal.signal(signal.SIGTERM, previous)
        for folder in made_caches:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
    status = "interrupted" if interrupted else worst([r.status for r in results])
    code = EXIT_BY_STATUS[status]
    if code:
        sys.exit(code)


class _Progress:
    """One line on a terminal, rewritten as pages arrive: pages, servers, tools, errors."""

    def __init__(self):
        self.width = 0

    def __call__(self, source, counts, page):
        http = page.http
        line = (f"{source.name}: page {counts.pages}, {counts.servers_seen:,} servers, {counts.tools_seen:,} tools, "
                f"{counted(len(counts.errors), 'error', 'errors')}" + (f", {http.not_modified} not modified, {counted(http.retries, 'retry', 'retries')}"
                                                  if http else ""))
        self.width = max(self.width, len(line))
        click.echo("\r" + line.ljust(self.width), nl=False, err=True)

    def clear(self):
        if self.width:
            click.echo("\r" + " " * self.width + "\r", nl=False, err=True)
            self.width = 0


def _summary(result, db_path):
    if result.status == "skipped":
        click.echo(result.message, err=True)
        return
    c = result.counts
    http = result.http
    # (a local file makes no request: no HTTP figures for it)
    requests = (f", {counted(http.requests, 'request')} ({http.not_modified} not modified, "
                f"{counted(http.retries, 'retry', 'retries')})" if http and http.requests else "")
    click.echo(
        f"{result.source}: {result.status} in {result.seconds:.1f} s: {counted(c.pages, 'page', 'pages')}{requests}; "
        f"{counted(c.servers_seen, 'server', 'servers')} ({c.servers_added:,} new, {c.servers_status_changed} status changes); "
        f"{counted(c.tools_seen, 'tool', 'tools')} ({c.tools_added:,} added, {c.tools_changed:,} changed, {c.tools_removed:,} removed); "
        f"{c.classified:,} classified; {counted(len(c.errors), 'error', 'errors')} -> {db_path} (crawl run {result.run_id})"
    )
    if result.changes:
        click.echo(f"  {len(result.changes)} tool definitions changed (review them: `mcp-risk diff --run {result.run_id}`):")
        for server, tool in result.changes[:20]:
            click.echo(f"    {clip(server, 60)} / {clip(tool, 60)}")
        if len(result.changes) > 20:
            click.echo(f"    … and {len(result.changes) - 20} more")
    for error in c.errors[:5]:
        click.echo(f"  error: {clip(error, 300)}", err=True)
    if len(c.errors) > 5:
        click.echo(f"  … and {len(c.errors) - 5} more errors, kept in crawl run {result.run_id}", err=True)


# -- commands -----------------------------------------------------------------------------------

@click.group(help=GROUP_HELP, short_help="Crawl sources of MCP servers and tools into the catalogue.",
             invoke_without_command=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True),
              help="Crawl every source listed in this crawl.toml, in order (for cron or a systemd timer).")
@click.option("--db", "db_path", default="catalogue.db", envvar="MCP_RISK_DB", show_default=True,
              type=click.Path(dir_okay=False),
              help="Catalogue database file (or set MCP_RISK_DB); for --config, wins over the file's `db`.")
@click.pass_context
def crawl(ctx, config_path, db_path):
    if ctx.invoked_subcommand is not None:
        if config_path:
            raise click.UsageError("--config runs the sources it lists: give it without a subcommand")
        return
    if not config_path:
        click.echo(ctx.get_help())
        return
    explicit_db = ctx.get_parameter_source("db_path") not in (click.core.ParameterSource.DEFAULT, None)
    reports_errors(_crawl_config)(config_path, db_path if explicit_db else None)


def _server_cache(db_path):
    """Where `crawl live` keeps the packages it installs: mcp-risk's own folder beside the catalogue,
    never the user's npm or uv cache."""
    from pathlib import Path

    if db_path == ":memory:":
        import tempfile

        # A fresh folder of our own: a fixed name in /tmp is one another local user could make first
        # and fill with code that an install (with network) would run.
        return Path(tempfile.mkdtemp(prefix="mcp-risk-server-cache-"))
    path = Path(db_path).resolve()
    return path.with_name(f"{path.stem}.server-cache")


def _crawl_config(config_path, db_path):
    from ..crawler.config import load

    from ..catalogue.crawling import cache_path

    plan = load(config_path)
    target = db_path or plan.db or "catalogue.db"
    entries = []
    for source, http, limits in plan.entries:
        http.cache_path = None if target == ":memory:" else cache_path(target)
        entries.append((source, http, limits))
    _crawl(target, entries, quiet=False)




@crawl.command("snapshot")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr; the summary still prints.")
@db_option
@reports_errors
def crawl_snapshot(path, quiet, db_path):
    """Ingest, classify and store a snapshot of tool definitions.

    PATH is a JSON-lines file (gzipped or not) of tool rows, each with a `server`; without PATH,
    the bundled snapshot of 24,071 real tools from 2,567 servers. The file is checked whole before
    the catalogue is touched: a bad line changes nothing. Crawling the same data again adds nothing.
    """
    from ..catalogue.db import open_catalogue
    from ..catalogue.lock import CrawlLocked, crawl_lock
    from ..catalogue.store import CrawlRun
    from ..crawler.sources.snapshot import read_snapshot

    manifests = list(read_snapshot(path))
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with crawl_lock(db_path):
            db = open_catalogue(db_path)
            with progress_bar(len(manifests), "Storing servers", quiet) as bar:
                with CrawlRun(db, "snapshot", kind="snapshot", location=path or "bundled") as run:
                    run.store(manifests, progress=bar.update)
    except CrawlLocked as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_LOCKED)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the run is recorded as interrupted
        click.echo("snapshot: interrupted; what was stored is kept, and crawling it again adds the rest", err=True)
        sys.exit(EXIT_BY_STATUS["interrupted"])
    finally:
        signal.signal(signal.SIGTERM, previous)
    counts = run.counts
    click.echo(
        f"snapshot: {counted(counts.servers_seen, 'server')}, {counted(counts.tools_seen, 'tool')} seen; "
        f"{counts.tools_added:,} added, {counts.tools_changed:,} changed, {counts.tools_removed:,} removed; "
        f"{counts.classified:,} classified -> {db_path} (crawl run {run.id})"
    )


@crawl.command("registry")
@click.option("--url", help="Registry base URL (or its /v0.1/servers endpoint). Default: the official registry.")
@click.option("--full", is_flag=True, help="Walk the whole registry instead of what changed since the last crawl.")
@crawl_options
@reports_errors
def crawl_registry(url, full, **settings):
    """An MCP registry (API v0.1): servers with packages and remotes.

    Pages of 100 with version=latest; after a complete crawl, the next one asks only for servers
    updated since (which brings deleted ones in: they are marked, never dropped). Tools are not in
    a registry: the servers are stored with tools unknown, for probing.
    """
    _run_single("registry", {"url": url, "full": full}, settings)


@crawl.command("docker")
@click.option("--url", help="catalog.json URL. Default: Docker's MCP catalog.")
@click.option("--no-tools-urls", is_flag=True, help="Do not fetch the tool lists that tiles only link to.")
@crawl_options
@reports_errors
def crawl_docker(url, no_tools_urls, **settings):
    """Docker's MCP catalog: servers with their tools, and the sandbox they run in
    (network, allowed hosts, secrets, volumes) kept as risk context."""
    _run_single("docker", {"url": url, "tools_urls": not no_tools_urls}, settings)


@crawl.command("glama")
@click.option("--url", help="API base URL. Default: https://glama.ai/api/mcp")
@click.option("--query", help="Only servers matching this search.")
@crawl_options
@reports_errors
def crawl_glama(url, query, **settings):
    """Glama's MCP directory: servers with their tools (name, description, input schema)."""
    _run_single("glama", {"url": url, "query": query}, settings)


@crawl.command("smithery")
@click.option("--url", help="API base URL. Default: https://registry.smithery.ai")
@click.option("--query", help="Only servers matching this search.")
@click.option("--no-details", is_flag=True, help="List servers only; skip the per-server request for tools.")
@crawl_options
@reports_errors
def crawl_smithery(url, query, no_details, **settings):
    """Smithery's registry: servers, then each server's tools and security scan.

    Needs an API key in SMITHERY_API_KEY; without one the crawl is skipped (exit 0) and says so.
    """
    _run_single("smithery", {"url": url, "query": query, "details": not no_details}, settings)


@crawl.command("awesome")
@click.option("--url", help="The list, as Markdown or a rendered HTML page. Default: punkpeye/awesome-mcp-servers.")
@crawl_options
@reports_errors
def crawl_awesome(url, **settings):
    """An awesome-mcp-servers style list: a server inventory with repository URLs (tools unknown)."""
    _run_single("awesome", {"url": url}, settings)


@crawl.command("file")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True))
@click.option("--server", help="Server name for tools that do not say theirs (default: the file name).")
@click.option("--name", "source_name", help="Name of this source in the catalogue (default: file).")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr; the summary still prints.")
@db_option
@reports_errors
def crawl_file(paths, server, source_name, quiet, db_path):
    """Local files, each recognised by its content: a tools/list result, JSON or JSON lines of
    tools, a registry page or server.json list, a Docker catalog, a ToolHive registry.

    A file that cannot be read or parsed (or is empty) is logged and the others are still crawled
    (exit 3). A path that does not exist is a usage error (exit 2): nothing is crawled.
    """
    # Nothing is fetched: the HTTP settings of the other sources mean nothing here.
    _run_single("file", {"paths": list(paths), "server": server},
                {"db_path": db_path, "quiet": quiet, "source_name": source_name, "max_pages": None,
                 "max_time": None, "rate": 0, "concurrency": 1, "timeout": 30.0, "attempts": 1,
                 "max_bytes": 64 * 1024 * 1024, "no_cache": True})


@crawl.command("live")
@click.option("--allow-exec", is_flag=True,
              help="Required: this installs and runs code that registry data names (npm, PyPI packages), contained.")
@click.option("--max-age", default="7d", show_default=True,
              help="Probe a server again once its last probe is older than this (3600, 30m, 12h, 7d).")
@click.option("-j", "--concurrency", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Servers probed at once on this machine (local executor).")
@click.option("--cluster", metavar="tcp://HOST:8786", envvar="MCP_RISK_CLUSTER",
              help="Run each probe as a task of this Dask scheduler instead (needs mcp-risk[cluster]).")
@click.option("--timeout", "probe_timeout", type=click.FloatRange(0.1, 3600), default=60.0, show_default=True,
              help="Seconds a server has from start to its whole tool list (after its install).")
@click.option("--install-timeout", type=click.FloatRange(1, 7200), default=300.0, show_default=True,
              help="Seconds a package install may take.")
@click.option("--cache-dir", type=click.Path(file_okay=False),
              help="Package cache for the servers (npm, uv). Default: DB's stem + .server-cache beside the "
                   "catalogue; never your own caches or home.")
@click.option("--server", "only", multiple=True, help="Only this server (repeatable).")
@click.option("--max-time", type=click.FloatRange(min=0.01), help="Stop after this many seconds (resumable).")
@click.option("--name", "source_name", help="Name of this source in the catalogue (default: live-registry).")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr; the summary still prints.")
@db_option
@reports_errors
def crawl_live(allow_exec, max_age, concurrency, cluster, probe_timeout, install_timeout, cache_dir, only,
               max_time, source_name, quiet, db_path):
    """Probe registry servers in the catalogue for their tools (needs --allow-exec).

    Every server a registry crawl stored whose tools are unknown, or whose last probe here is older
    than --max-age, is installed from its server.json (npm through npx, PyPI through uvx; remotes
    that need no value from the user) and asked for its tools; they are stored as this source's
    record (tools unknown and the reason, when a probe fails). Run `mcp-risk crawl registry` first.

    \b
    Containment, for strangers' code run unattended:
      install  into mcp-risk's own cache, with network, a temporary home and limits
      run      no network; bubblewrap (a read-only system, private /tmp, own PID namespace) where
               installed, else `unshare` namespaces; a temporary home; CPU, memory, output and time
               limits; dummy values for required env vars (never a real secret); every process of
               the server, double-forked or not, dies with it

    \b
      mcp-risk crawl live --allow-exec
      mcp-risk crawl live --allow-exec --cluster tcp://scheduler:8786 --max-time 3000

    Resumable: each server's result is stored with the checkpoint; a killed crawl (even SIGKILL)
    goes on with the servers it had not reached. Exit status as for every crawl (3: some servers
    could not be probed; each is named in the crawl run).
    """
    from pathlib import Path

    from ..crawler.config import live_source
    from ..crawler.pages import Limits

    if not allow_exec:
        raise click.UsageError("crawl live installs and runs registry servers' code: pass --allow-exec to allow it")
    source = live_source(name=source_name, allow_exec=True, max_age=max_age, concurrency=concurrency,
                         cluster=cluster, probe_timeout=probe_timeout, install_timeout=install_timeout,
                         cache_dir=Path(cache_dir).resolve() if cache_dir else None)
    if only:
        source.only = set(only)
    _crawl(db_path, [(source, _http_options(db_path, rate=0, concurrency=1, timeout=30, attempts=1,
                                            max_bytes=1 << 20, no_cache=True), Limits(max_seconds=max_time))], quiet)
