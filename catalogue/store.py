"""Store what sources yield: servers, tools, their history and classifications, inside crawl runs.

Writes are idempotent: storing the same manifests again adds no row and changes none, because
every tool is compared by the hash of its definition before anything is written.
"""

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

import classifier
from crawler import canonical_json, definition_hash

from .db import transaction

_CHUNK = 250  # servers per batch of queries: keeps `IN (...)` lists well under SQLite's limits
_MAX_ERRORS_KEPT = 1000


def utc_now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json(value):
    return None if value is None else canonical_json(value)


@dataclass
class RunCounts:
    servers_seen: int = 0
    tools_seen: int = 0
    tools_added: int = 0
    tools_changed: int = 0
    tools_removed: int = 0
    classified: int = 0
    errors: list = field(default_factory=list)

    def as_dict(self):
        return {
            "servers_seen": self.servers_seen, "tools_seen": self.tools_seen,
            "tools_added": self.tools_added, "tools_changed": self.tools_changed,
            "tools_removed": self.tools_removed, "classified": self.classified,
            "error_count": len(self.errors),
        }


class CrawlRun:
    """One crawl of one source: a `crawl_runs` row that records what happened, whatever happens.

        with CrawlRun(db, "snapshot", kind="snapshot", location=path) as run:
            run.store(manifests)

    Each `store` call is one transaction: it lands whole or not at all.
    """

    def __init__(self, db, source, *, kind, location=None, classify=None):
        self.db = db
        self.source = source
        self.kind = kind
        self.location = None if location is None else str(location)
        self.classify = classify or classifier.classify
        self.version = getattr(self.classify, "version", None) or classifier.current_version()
        self.counts = RunCounts()
        self.id = None
        self.source_id = None
        self.previous_success = None

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, kind, error, traceback):
        if error is None:
            self.finish("partial" if self.counts.errors else "ok")
        else:
            self.note_error(f"crawl failed: {type(error).__name__}: {error}")
            self.finish("failed")
        return False

    def start(self):
        with transaction(self.db):
            row = self.db.execute(
                "SELECT id, kind, location, last_success_at FROM sources WHERE name = ?", [self.source]
            ).fetchone()
            if row is None:
                cursor = self.db.execute(
                    "INSERT INTO sources (name, kind, location) VALUES (?, ?, ?)",
                    [self.source, self.kind, self.location],
                )
                self.source_id = cursor.lastrowid
            else:
                self.source_id, kind, location, self.previous_success = row
                if (kind, location) != (self.kind, self.location):
                    self.db.execute("UPDATE sources SET kind = ?, location = ? WHERE id = ?",
                                    [self.kind, self.location, self.source_id])
            # A run still "running" here was killed: say so rather than leave it dangling.
            self.db.execute(
                "UPDATE crawl_runs SET status = 'interrupted' WHERE source_id = ? AND status = 'running'",
                [self.source_id],
            )
            self.id = self.db.execute(
                "INSERT INTO crawl_runs (source_id, started_at, status) VALUES (?, ?, 'running')",
                [self.source_id, utc_now()],
            ).lastrowid

    def note_error(self, message):
        if len(self.counts.errors) < _MAX_ERRORS_KEPT:
            self.counts.errors.append(message)

    def finish(self, status):
        finished = utc_now()
        counts = self.counts.as_dict()
        with transaction(self.db):
            self.db.execute(
                f"UPDATE crawl_runs SET finished_at = ?, status = ?, errors = ?, "
                f"{', '.join(f'{k} = ?' for k in counts)} WHERE id = ?",
                [finished, status, json.dumps(self.counts.errors) if self.counts.errors else None,
                 *counts.values(), self.id],
            )
            if status in ("ok", "partial"):
                self.db.execute("UPDATE sources SET last_success_at = ? WHERE id = ?", [finished, self.source_id])
        self.status = status

    # -- storing ---------------------------------------------------------------------------
    def store(self, manifests, progress=None):
        """Store manifests in one transaction. `progress(n)` is called as servers are done."""
        manifests = _last_of_each_name(manifests)
        before = dataclasses.replace(self.counts, errors=self.counts.errors)
        try:
            with transaction(self.db):
                for start in range(0, len(manifests), _CHUNK):
                    chunk = manifests[start : start + _CHUNK]
                    self._store_chunk(chunk)
                    if progress:
                        progress(len(chunk))
        except BaseException:
            self.counts = before  # rolled back: count nothing of it
            raise
        return self.counts

    def _store_chunk(self, manifests):
        now = utc_now()
        server_ids = self._upsert_servers(manifests, now)
        listed = [m for m in manifests if m.tools is not None]
        self.counts.servers_seen += len(manifests)
        if listed:
            self._store_tools(listed, server_ids, now)

    def _upsert_servers(self, manifests, now):
        db = self.db
        names = [m.name for m in manifests]
        known = {
            name: (server_id, title, description, tools_known)
            for server_id, name, title, description, tools_known in db.execute(
                f"SELECT id, name, title, description, tools_known FROM servers WHERE name IN ({_marks(names)})", names
            )
        }
        ids = {}
        for manifest in manifests:
            tools_known = int(manifest.tools is not None)
            row = known.get(manifest.name)
            if row is None:
                ids[manifest.name] = db.execute(
                    "INSERT INTO servers (name, title, description, tools_known, first_seen) VALUES (?, ?, ?, ?, ?)",
                    [manifest.name, manifest.title, manifest.description, tools_known, now],
                ).lastrowid
                continue
            server_id, title, description, was_known = row
            ids[manifest.name] = server_id
            new = (manifest.title or title, manifest.description or description, max(tools_known, was_known))
            if new != (title, description, was_known):
                db.execute("UPDATE servers SET title = ?, description = ?, tools_known = ? WHERE id = ?", [*new, server_id])
        self._upsert_records(manifests, ids, now)
        return ids

    def _upsert_records(self, manifests, ids, now):
        db = self.db
        server_ids = [ids[m.name] for m in manifests]
        records = dict(db.execute(
            f"SELECT server_id, record FROM server_sources WHERE source_id = ? AND server_id IN ({_marks(server_ids)})",
            [self.source_id, *server_ids],
        ))
        for manifest in manifests:
            server_id = ids[manifest.name]
            record = _json(manifest.meta) if manifest.meta else None
            if server_id not in records:
                db.execute("INSERT INTO server_sources (server_id, source_id, record, first_seen) VALUES (?, ?, ?, ?)",
                           [server_id, self.source_id, record, now])
            elif records[server_id] != record:
                db.execute("UPDATE server_sources SET record = ? WHERE server_id = ? AND source_id = ?",
                           [record, server_id, self.source_id])

    def _store_tools(self, manifests, server_ids, now):
        db = self.db
        ids = [server_ids[m.name] for m in manifests]
        existing = {}  # server id -> {tool name: (id, hash, status, source id)}
        for tool_id, server_id, name, tool_hash, status, source_id in db.execute(
            f"SELECT id, server_id, name, hash, status, source_id FROM tools WHERE server_id IN ({_marks(ids)})", ids
        ):
            existing.setdefault(server_id, {})[name] = (tool_id, tool_hash, status, source_id)
        classified = {
            tool_id for (tool_id,) in db.execute(
                f"SELECT c.tool_id FROM classifications c JOIN tools t ON t.id = c.tool_id AND t.hash = c.tool_hash "
                f"WHERE t.server_id IN ({_marks(ids)}) AND c.classifier_version = ?", [*ids, self.version]
            )
        }
        next_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM tools").fetchone()[0]
        inserts, updates, restores, history, to_classify = [], [], [], [], []
        for manifest in manifests:
            server_id = server_ids[manifest.name]
            before = existing.get(server_id, {})
            seen = set()
            for tool in manifest.tools:
                if tool["name"] in seen:
                    continue  # a server listing a name twice: the first definition stands
                seen.add(tool["name"])
                self.counts.tools_seen += 1
                tool_hash = definition_hash(tool)
                columns = _tool_columns(tool)
                known = before.get(tool["name"])
                if known is None:
                    tool_id, next_id = next_id, next_id + 1
                    inserts.append([tool_id, server_id, *columns, tool_hash, self.source_id, now])
                    history.append([tool_id, "added", tool_hash, canonical_json(tool), now, self.id])
                    to_classify.append((tool_id, tool_hash, tool, manifest))
                    self.counts.tools_added += 1
                    continue
                tool_id, old_hash, status, _ = known
                if old_hash != tool_hash:
                    updates.append([*columns, tool_hash, self.source_id, tool_id])
                    history.append([tool_id, "changed", tool_hash, canonical_json(tool), now, self.id])
                    to_classify.append((tool_id, tool_hash, tool, manifest))
                    self.counts.tools_changed += 1
                    continue
                if status != "listed":
                    restores.append([tool_id])
                    history.append([tool_id, "restored", tool_hash, None, now, self.id])
                if tool_id not in classified:
                    to_classify.append((tool_id, tool_hash, tool, manifest))
            # Tools this source listed before and lists no more: kept, marked removed.
            for name, (tool_id, tool_hash, status, source_id) in before.items():
                if name not in seen and status == "listed" and source_id == self.source_id:
                    db.execute("UPDATE tools SET status = 'removed', last_seen = ? WHERE id = ?",
                               [self.previous_success or now, tool_id])
                    history.append([tool_id, "removed", tool_hash, None, now, self.id])
                    self.counts.tools_removed += 1
        db.conn.executemany(
            "INSERT INTO tools (id, server_id, name, title, description, input_schema, output_schema, annotations, "
            "hash, source_id, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", inserts)
        db.conn.executemany(
            "UPDATE tools SET name = ?, title = ?, description = ?, input_schema = ?, output_schema = ?, "
            "annotations = ?, hash = ?, source_id = ?, status = 'listed', last_seen = NULL WHERE id = ?", updates)
        db.conn.executemany("UPDATE tools SET status = 'listed', last_seen = NULL WHERE id = ?", restores)
        db.conn.executemany(
            "INSERT INTO tool_history (tool_id, change, hash, definition, seen_at, crawl_run_id) VALUES (?, ?, ?, ?, ?, ?)",
            history)
        self._classify(to_classify)

    def _classify(self, pending):
        rows = []
        now = utc_now()
        contexts = {}
        for tool_id, tool_hash, tool, manifest in pending:
            context = contexts.get(id(manifest))
            if context is None:
                context = contexts[id(manifest)] = {
                    "name": manifest.name, "title": manifest.title, "description": manifest.description,
                    "tools": manifest.tools,
                }
            result = self.classify(tool, server=context)
            rows.append([tool_id, tool_hash, self.version, result.category, result.risk,
                         json.dumps(list(result.flags)), result.confidence,
                         json.dumps(list(result.evidence), ensure_ascii=False), now])
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO classifications (tool_id, tool_hash, classifier_version, category, risk, flags, "
            "confidence, evidence, classified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        self.counts.classified += len(rows)


def _tool_columns(tool):
    return [tool["name"], tool.get("title"), tool.get("description"), _json(tool.get("inputSchema")),
            _json(tool.get("outputSchema")), _json(tool.get("annotations"))]


def _marks(values):
    return ", ".join("?" * len(values)) or "NULL"


def _last_of_each_name(manifests):
    """One manifest per server name, the last one given winning, in first-seen order."""
    by_name = {}
    for manifest in manifests:
        by_name[manifest.name] = manifest
    return list(by_name.values())
