"""Crawl a source into the catalogue: the crawler fetches pages, the catalogue stores each page
together with the source's checkpoint (one transaction), inside a crawl run that records counts,
errors and how it ended. A crawl killed at any point resumes after the last page it stored.
"""

import time
from dataclasses import dataclass, field
from pathlib import Path

from .store import CrawlRun

# How a source's crawl ended, worst last; the CLI turns the worst into its exit status.
OUTCOMES = ("ok", "skipped", "partial", "failed", "interrupted")


@dataclass
class SourceResult:
    source: str
    status: str
    counts: object = None  # store.RunCounts
    run_id: int | None = None
    message: str | None = None
    seconds: float = 0.0
    http: object = None  # crawler.http.HttpStats
    changes: list = field(default_factory=list)


def cache_path(db_path):
    """The HTTP cache beside the catalogue: catalogue.db -> catalogue.http-cache.db."""
    path = Path(db_path)
    return str(path.with_name(f"{path.stem}.http-cache.db"))


def crawl_source(db, source, *, options, limits=None, progress=None):
    """Crawl one source into `db`. Returns a SourceResult; KeyboardInterrupt propagates (the run is
    marked interrupted first)."""
    from ..crawler.pages import Failure, Skip, crawl_pages

    check = getattr(source, "check", None)
    if check is not None:
        try:
            check()
        except Skip as error:  # a source that cannot run here (no API key): skipped, said why, recorded
            with CrawlRun(db, source.name, kind=source.kind, location=source.location) as run:
                run.forced_status, run.message = "skipped", str(error)
            return SourceResult(source.name, "skipped", message=str(error), run_id=run.id, counts=run.counts)
    if hasattr(source, "use_servers"):  # `crawl live`: probes servers the catalogue holds
        from .queries import registry_servers

        source.use_servers(registry_servers(db))
    started = time.monotonic()
    result = SourceResult(source.name, "failed")
    with CrawlRun(db, source.name, kind=source.kind, location=source.location) as run:
        result.run_id = run.id
        complete = False
        # A source that lists everything it holds (Docker's catalog, Glama), walked from its first
        # page in this run: what the walk did not list, the source no longer lists.
        whole = getattr(source, "lists_everything", False) and not run.state.get("resume")
        for item in crawl_pages(source, run.state, options, limits):
            result.http = item.http
            if isinstance(item, Failure):
                run.note_error(item.message)
                result.message = item.message
                break
            for error in item.errors:
                run.note_error(error)
            run.counts.pages += 1
            run.counts.not_modified += int(item.not_modified)
            run.store(item.manifests, state=item.state)
            complete = complete or item.done
            if progress:
                progress(source, run.counts, item)
        if not complete:
            run.forced_status = "failed" if run.counts.pages == 0 else "partial"
        elif whole and not run.counts.errors:  # (an entry skipped might be one still listed)
            run.mark_unlisted()
    result.status = run.status
    result.counts = run.counts
    result.changes = list(run.counts.changes)
    result.seconds = time.monotonic() - started
    return result


def worst(statuses):
    ranked = [s for s in statuses if s in OUTCOMES]
    return max(ranked, key=OUTCOMES.index) if ranked else "ok"
