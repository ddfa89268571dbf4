"""Store what sources yield: servers, tools, their history and classifications, inside crawl runs.

Writes are idempotent: storing the same manifests again adds no row and changes none, because
every tool is compared by the hash of its definition before anything is written.

One server across sources: a manifest is matched to a server by the source's own name for it
(once recorded), else by an identity key (registry name, package, repository: see
`crawler.identity`), else by the server's name. A source never folds two of its own servers
into one. The first source to create a server gives its name, title and description; others
fill in what is missing. A registry source sets the server's status (active, deprecated,
deleted): servers are marked, never dropped. A source whose walk lists everything it holds
(Docker's catalog, Glama) marks its record of each server it no longer lists (`unlisted_since`),
and a server that no source lists any more is `unlisted` until one lists it again.

Tools across sources: a tool's definition is kept from the source that stored it, unless a
more authoritative one lists it (a live probe over a user's file over a catalogue over a list
of bare names), so two catalogues that word a tool differently never flip it back and forth.
"""

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..crawler import canonical_json, definition_hash
from ..crawler.identity import identity_keys

from .db import json_object, transaction
from .grading import regrade

_CHUNK = 250  # servers per batch of queries: keeps `IN (...)` lists well under SQLite's limits
_MAX_ERRORS_KEPT = 1000
_MAX_CHANGES_KEPT = 1000
# Whose definition of a tool wins when two sources list it (bare names rank 0, other kinds 1).
TOOL_AUTHORITY = {"live": 3, "file": 2}
STATUS_SOURCES = ("registry",)  # kinds of source whose word on a server's status counts


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
    pages: int = 0
    not_modified: int = 0
    servers_added: int = 0
    servers_status_changed: int = 0
    errors: list = field(default_factory=list)
    changes: list = field(default_factory=list)  # (server, tool) whose definition changed

    def as_dict(self):
        return {
            "servers_seen": self.servers_seen, "tools_seen": self.tools_seen,
            "tools_added": self.tools_added, "tools_changed": self.tools_changed,
            "tools_removed": self.tools_removed, "classified": self.classified,
            "error_count": len(self.errors), "pages": self.pages, "not_modified": self.not_modified,
            "servers_added": self.servers_added, "servers_status_changed": self.servers_status_changed,
        }


class CrawlRun:
    """One crawl of one source: a `crawl_runs` row that records what happened, whatever happens.

        with CrawlRun(db, "snapshot", kind="snapshot", location=path) as run:
            run.store(manifests)

    Each `store` call is one transaction: it lands whole or not at all, together with the
    source's checkpoint when one is given (so a crawl resumes exactly after the last page stored).
    """

    def __init__(self, db, source, *, kind, location=None, classify=None):
        self.db = db
        self.source = source
        self.kind = kind
        self.location = None if location is None else str(location)
        self._classifier = classify
        self._version = None
        self.counts = RunCounts()
        self.id = None
        self.source_id = None
        self.previous_success = None
        self.state = {}
        self._state_text = None
        self.status = None
        self.forced_status = None  # set by a caller that knows better than "errors or not"
        self.message = None  # why the run ended as it did, when its status alone does not say (skipped)
        self.seen_servers = set()  # ids of the servers this run stored (see mark_unlisted)

    # The classifier (its rules and model) loads when a tool is first stored: a crawl of servers
    # without tools (the registry) never needs it, and starts in a fraction of the time.
    @property
    def classify(self):
        if self._classifier is None:
            from .. import classifier

            self._classifier = classifier.classify
        return self._classifier

    @property
    def version(self):
        if self._version is None:
            from .. import classifier

            self._version = getattr(self.classify, "version", None) or classifier.current_version()
        return self._version

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, kind, error, traceback):
        if error is None:
            self.finish(self.forced_status or ("partial" if self.counts.errors else "ok"))
        elif isinstance(error, KeyboardInterrupt):  # Ctrl-C, or SIGTERM from a scheduler
            self.note_error("crawl interrupted")
            self.finish("interrupted")
        else:
            self.note_error(f"crawl failed: {type(error).__name__}: {error}")
            self.finish("failed")
        return False

    def start(self):
        with transaction(self.db):
            row = self.db.execute(
                "SELECT id, kind, location, last_success_at, state FROM sources WHERE name = ?", [self.source]
            ).fetchone()
            if row is None:
                cursor = self.db.execute(
                    "INSERT INTO sources (name, kind, location) VALUES (?, ?, ?)",
                    [self.source, self.kind, self.location],
                )
                self.source_id = cursor.lastrowid
            else:
                self.source_id, kind, location, self.previous_success, self._state_text = row
                self.state = json_object(self._state_text)
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
                f"UPDATE crawl_runs SET finished_at = ?, status = ?, errors = ?, message = ?, "
                f"{', '.join(f'{k} = ?' for k in counts)} WHERE id = ?",
                [finished, status, json.dumps(self.counts.errors) if self.counts.errors else None, self.message,
                 *counts.values(), self.id],
            )
            if status in ("ok", "partial"):
                self.db.execute("UPDATE sources SET last_success_at = ? WHERE id = ?", [finished, self.source_id])
        self.status = status

    # -- storing ---------------------------------------------------------------------------
    def store(self, manifests, progress=None, *, state=None):
        """Store manifests in one transaction. `progress(n)` is called as servers are done.

        With `state` (the source's checkpoint after these manifests), the same transaction saves
        it and the run's counts so far: a crawl killed after this returns resumes after it.
        """
        manifests = _last_of_each_name(manifests)
        before = dataclasses.replace(self.counts, errors=list(self.counts.errors), changes=list(self.counts.changes))
        try:
            with transaction(self.db):
                for start in range(0, len(manifests), _CHUNK):
                    chunk = manifests[start : start + _CHUNK]
                    self._store_chunk(chunk)
                    if progress:
                        progress(len(chunk))
                if state is not None:
                    self._checkpoint(state)
        except BaseException:
            self.counts = before  # rolled back: count nothing of it
            raise
        return self.counts

    def mark_unlisted(self):
        """After a walk that listed everything this source holds (from its first page to its last,
        within this run): mark this source's record of every server the walk did not list, and
        make `unlisted` each server that no source lists any more. Returns how many records."""
        now = utc_now()
        with transaction(self.db):
            conn = self.db.conn
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS _seen_servers (id INTEGER PRIMARY KEY)")
            conn.execute("DELETE FROM _seen_servers")
            conn.executemany("INSERT INTO _seen_servers (id) VALUES (?)", [[i] for i in self.seen_servers])
            gone = [server_id for (server_id,) in conn.execute(
                "SELECT server_id FROM server_sources WHERE source_id = ? AND unlisted_since IS NULL "
                "AND server_id NOT IN (SELECT id FROM _seen_servers)", [self.source_id])]
            conn.executemany("UPDATE server_sources SET unlisted_since = ? WHERE server_id = ? AND source_id = ?",
                             [[now, server_id, self.source_id] for server_id in gone])
            for start in range(0, len(gone), 900):
                part = gone[start : start + 900]
                changed = conn.execute(
                    f"UPDATE servers SET status = 'unlisted' WHERE id IN ({_marks(part)}) AND status = 'active' "
                    "AND NOT EXISTS (SELECT 1 FROM server_sources ss WHERE ss.server_id = servers.id "
                    "AND ss.unlisted_since IS NULL)", part).rowcount
                self.counts.servers_status_changed += changed
            conn.execute("DELETE FROM _seen_servers")
        return len(gone)

    def _checkpoint(self, state):
        text = json.dumps(state, sort_keys=True, separators=(",", ":")) if state else None
        if text != self._state_text:
            self.db.execute("UPDATE sources SET state = ? WHERE id = ?", [text, self.source_id])
            self._state_text = text
            self.state = dict(state or {})
        counts = self.counts.as_dict()
        self.db.execute(
            f"UPDATE crawl_runs SET {', '.join(f'{k} = ?' for k in counts)} WHERE id = ?", [*counts.values(), self.id])

    def _store_chunk(self, manifests):
        now = utc_now()
        server_ids = self._upsert_servers(manifests, now)
        self.seen_servers.update(server_ids.values())
        listed = [m for m in manifests if m.tools is not None]
        self.counts.servers_seen += len(manifests)
        if listed:
            self._store_tools(listed, server_ids, now)
            # The servers whose tools or classifications may have moved get their grade again.
            regrade(self.db, [server_ids[m.name] for m in listed], now=now, crawl_run_id=self.id)

    def _upsert_servers(self, manifests, now):
        """Resolve every manifest to a server (found or new), update servers, records and aliases."""
        db = self.db
        names = [m.name for m in manifests]
        keys = {m.name: identity_keys(m.meta) for m in manifests}
        own = dict(db.conn.execute(
            f"SELECT source_name, server_id FROM server_sources WHERE source_id = ? AND source_name IN ({_marks(names)})",
            [self.source_id, *names]))
        by_kind = {}
        for found in keys.values():
            for kind, value in found:
                by_kind.setdefault(kind, set()).add(value)
        aliases = {}
        for kind, kind_values in by_kind.items():  # by kind: the primary key (kind, value) serves it
            values = sorted(kind_values)
            for start in range(0, len(values), 900):
                part = values[start : start + 900]
                aliases.update({(kind, value): server_id for value, server_id in db.conn.execute(
                    f"SELECT value, server_id FROM server_aliases WHERE kind = ? AND value IN ({_marks(part)})",
                    [kind, *part])})
        by_name = {name: server_id for server_id, name in db.conn.execute(
            f"SELECT id, name FROM servers WHERE name IN ({_marks(names)})", names)}
        candidates = sorted(set(own.values()) | set(aliases.values()) | set(by_name.values()))
        servers = {}
        claimed = {}  # server id -> this source's name for it
        for start in range(0, len(candidates), 900):
            part = candidates[start : start + 900]
            for row in db.conn.execute(
                f"SELECT id, name, title, description, tools_known, status, source_id FROM servers WHERE id IN ({_marks(part)})",
                part,
            ):
                servers[row[0]] = list(row[1:])
            claimed.update(dict(db.conn.execute(
                f"SELECT server_id, source_name FROM server_sources WHERE source_id = ? AND server_id IN ({_marks(part)})",
                [self.source_id, *part])))

        def free(server_id, name):
            return server_id is not None and claimed.get(server_id, name) == name

        taken = set(by_name)  # server names in use, as far as this chunk needs to know
        new_aliases, ids = [], {}
        for manifest in manifests:
            server_id = own.get(manifest.name)
            if server_id is None:
                server_id = next((aliases[key] for key in keys[manifest.name]
                                  if free(aliases.get(key), manifest.name)), None)
            if server_id is None and free(by_name.get(manifest.name), manifest.name):
                server_id = by_name[manifest.name]
            if server_id is None:
                server_id = self._insert_server(manifest, now, taken)
                servers[server_id] = [manifest.name, manifest.title, manifest.description,
                                      int(manifest.tools is not None), self._status_of(manifest) or "active",
                                      self.source_id]
            else:
                self._update_server(server_id, servers[server_id], manifest)
            claimed[server_id] = manifest.name
            ids[manifest.name] = server_id
            for key in keys[manifest.name]:
                if key not in aliases:
                    aliases[key] = server_id
                    new_aliases.append([*key, server_id, self.source_id, now])
        db.conn.executemany("INSERT OR IGNORE INTO server_aliases (kind, value, server_id, source_id, first_seen) "
                            "VALUES (?, ?, ?, ?, ?)", new_aliases)
        self._upsert_records(manifests, ids, now)
        return ids

    def _status_of(self, manifest):
        status = manifest.meta.get("status") if isinstance(manifest.meta, dict) else None
        return status if self.kind in STATUS_SOURCES and status in ("active", "deprecated", "deleted") else None

    def _insert_server(self, manifest, now, taken):
        name, suffix = manifest.name, 1
        # The name belongs to another server this source already records: keep them apart.
        while name in taken or (suffix > 1 and self.db.conn.execute(
                "SELECT 1 FROM servers WHERE name = ?", [name]).fetchone()):
            suffix += 1
            name = f"{manifest.name} ({self.source}{'' if suffix == 2 else f' {suffix}'})"
        taken.add(name)
        self.counts.servers_added += 1
        return self.db.conn.execute(
            "INSERT INTO servers (name, title, description, tools_known, first_seen, status, source_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [name, manifest.title, manifest.description, int(manifest.tools is not None), now,
             self._status_of(manifest) or "active", self.source_id],
        ).lastrowid

    def _update_server(self, server_id, row, manifest):
        _, title, description, tools_known, status, owner = row
        if owner == self.source_id or owner is None:
            new_title, new_description = manifest.title or title, manifest.description or description
        else:  # another source's wording stands; fill in only what is missing
            new_title, new_description = title or manifest.title, description or manifest.description
        new_status = self._status_of(manifest) or ("active" if status == "unlisted" else status)
        new = [new_title, new_description, max(int(manifest.tools is not None), tools_known or 0), new_status,
               owner if owner is not None else self.source_id]
        if new != row[1:]:
            if new_status != status:
                self.counts.servers_status_changed += 1
            self.db.conn.execute("UPDATE servers SET title = ?, description = ?, tools_known = ?, status = ?, "
                                 "source_id = ? WHERE id = ?", [*new, server_id])
            row[1:] = new

    def _upsert_records(self, manifests, ids, now):
        db = self.db
        server_ids = [ids[m.name] for m in manifests]
        records = {server_id: (record, name, unlisted) for server_id, record, name, unlisted in db.conn.execute(
            "SELECT server_id, record, source_name, unlisted_since FROM server_sources "
            f"WHERE source_id = ? AND server_id IN ({_marks(server_ids)})",
            [self.source_id, *server_ids],
        )}
        inserts, updates = [], []
        for manifest in manifests:
            server_id = ids[manifest.name]
            record = _json(manifest.meta) if manifest.meta else None
            if server_id not in records:
                inserts.append([server_id, self.source_id, record, now, manifest.name])
            elif records[server_id] != (record, manifest.name, None):  # (listed again: no longer unlisted)
                updates.append([record, manifest.name, server_id, self.source_id])
        db.conn.executemany("INSERT INTO server_sources (server_id, source_id, record, first_seen, source_name) "
                            "VALUES (?, ?, ?, ?, ?)", inserts)
        db.conn.executemany("UPDATE server_sources SET record = ?, source_name = ?, unlisted_since = NULL "
                            "WHERE server_id = ? AND source_id = ?", updates)

    def _store_tools(self, manifests, server_ids, now):
        db = self.db
        ids = [server_ids[m.name] for m in manifests]
        existing = {}  # server id -> {tool name: (id, hash, status, source id, authority)}
        hints = {}  # server id -> the annotations of the tools this source lists now: their context
        for tool_id, server_id, name, tool_hash, status, source_id, kind, bare, annotations in db.execute(
            "SELECT t.id, t.server_id, t.name, t.hash, t.status, t.source_id, so.kind, "
            "t.title IS NULL AND t.description IS NULL AND t.input_schema IS NULL AND t.output_schema IS NULL, "
            f"t.annotations FROM tools t LEFT JOIN sources so ON so.id = t.source_id WHERE t.server_id IN ({_marks(ids)})",
            ids
        ):
            existing.setdefault(server_id, {})[name] = (tool_id, tool_hash, status, source_id, _authority(kind, bare))
            if status == "listed" and source_id == self.source_id:
                hints.setdefault(server_id, []).append({"annotations": json_object(annotations)})
        classified = {
            tool_id for (tool_id,) in db.execute(
                f"SELECT c.tool_id FROM classifications c JOIN tools t ON t.id = c.tool_id AND t.hash = c.tool_hash "
                f"WHERE t.server_id IN ({_marks(ids)}) AND c.classifier_version = ?", [*ids, self.version]
            )
        }
        next_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM tools").fetchone()[0]

        def my_authority(tool):
            bare = all(tool.get(key) is None for key in ("title", "description", "inputSchema", "outputSchema"))
            return _authority(self.kind, bare)

        from .. import classifier

        inserts, updates, restores, history, to_classify = [], [], [], [], []
        for manifest in manifests:
            server_id = server_ids[manifest.name]
            before = existing.get(server_id, {})
            seen = set()
            # A tool's verdict reads its server's other tools (how their annotations spread): when
            # that context changed, every tool of the server is classified again.
            context_changed = bool(before) and (
                classifier.context_signature(manifest.tools) != classifier.context_signature(hints.get(server_id, [])))
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
                    to_classify.append((tool_id, tool_hash, tool, manifest, False))
                    self.counts.tools_added += 1
                    continue
                tool_id, old_hash, status, owner, owner_authority = known
                if owner != self.source_id and status == "listed" and my_authority(tool) <= owner_authority:
                    continue  # another source's definition of it stands
                if old_hash != tool_hash:
                    updates.append([*columns, tool_hash, self.source_id, tool_id])
                    history.append([tool_id, "changed", tool_hash, canonical_json(tool), now, self.id])
                    to_classify.append((tool_id, tool_hash, tool, manifest, False))
                    self.counts.tools_changed += 1
                    if len(self.counts.changes) < _MAX_CHANGES_KEPT:
                        self.counts.changes.append((manifest.name, tool["name"]))
                    continue
                if status != "listed":
                    restores.append([self.source_id, tool_id])
                    history.append([tool_id, "restored", tool_hash, None, now, self.id])
                if tool_id not in classified or context_changed:
                    to_classify.append((tool_id, tool_hash, tool, manifest, context_changed))
            # Tools this source listed before and lists no more: kept, marked removed.
            for name, (tool_id, tool_hash, status, source_id, _) in before.items():
                if name not in seen and status == "listed" and source_id == self.source_id:
                    db.execute("UPDATE tools SET status = 'removed', last_seen = ? WHERE id = ?",
                               [self.previous_success or now, tool_id])
                    history.append([tool_id, "removed", tool_hash, None, now, self.id])
                    self.counts.tools_removed += 1
        # Classify first, so each tool is written once, already pointing at its classification:
        # a second UPDATE per new tool would also re-index its words.
        pointers, classifications = self._classify(to_classify)
        db.conn.executemany(
            "INSERT INTO tools (id, server_id, name, title, description, input_schema, output_schema, annotations, "
            "hash, source_id, first_seen, classification_id, category, risk, confidence) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[*row, *pointers[row[0]]] for row in inserts])
        db.conn.executemany(
            "UPDATE tools SET name = ?, title = ?, description = ?, input_schema = ?, output_schema = ?, "
            "annotations = ?, hash = ?, source_id = ?, status = 'listed', last_seen = NULL, "
            "classification_id = ?, category = ?, risk = ?, confidence = ? WHERE id = ?",
            [[*row[:-1], *pointers[row[-1]], row[-1]] for row in updates])
        db.conn.executemany("UPDATE tools SET status = 'listed', last_seen = NULL, source_id = ? WHERE id = ?", restores)
        written = {row[0] for row in inserts} | {row[-1] for row in updates}
        # Tools classified again (a new classifier version, or the same classification refreshed in a
        # changed context): written only where the pointer or its copied verdict moves.
        db.conn.executemany(
            "UPDATE tools SET classification_id = ?, category = ?, risk = ?, confidence = ? WHERE id = ? "
            "AND (classification_id IS NOT ? OR category IS NOT ? OR risk IS NOT ? OR confidence IS NOT ?)",
            [(*pointer, tool_id, *pointer) for tool_id, pointer in pointers.items() if tool_id not in written])
        db.conn.executemany(
            "INSERT INTO tool_history (tool_id, change, hash, definition, seen_at, crawl_run_id) VALUES (?, ?, ?, ?, ?, ?)",
            history)
        db.conn.executemany(
            "INSERT INTO classifications (id, tool_id, tool_hash, classifier_version, category, risk, flags, "
            "confidence, evidence, classified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", classifications)

    def _classify(self, pending):
        """({tool id: (classification id, category, risk, confidence)}, classification rows to insert).

        A definition this classifier version has seen before keeps its classification."""
        db = self.db
        known = {}
        tool_ids = [tool_id for tool_id, *_ in pending]
        for start in range(0, len(tool_ids), 900):
            chunk = tool_ids[start : start + 900]
            for tool_id, tool_hash, cid, category, risk, confidence in db.execute(
                f"SELECT tool_id, tool_hash, id, category, risk, confidence FROM classifications "
                f"WHERE classifier_version = ? AND tool_id IN ({_marks(chunk)})", [self.version, *chunk]
            ):
                known[(tool_id, tool_hash)] = (cid, category, risk, confidence)
        next_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM classifications").fetchone()[0]
        now = utc_now()
        contexts, pointers, rows, refreshed = {}, {}, [], []
        todo = []
        for tool_id, tool_hash, tool, manifest, fresh in pending:
            found = known.get((tool_id, tool_hash))
            if found is not None and not fresh:
                pointers[tool_id] = found
                continue
            context = contexts.get(id(manifest))
            if context is None:
                context = contexts[id(manifest)] = {
                    "name": manifest.name, "title": manifest.title, "description": manifest.description,
                    "tools": manifest.tools,
                }
            todo.append((tool_id, tool_hash, tool, context, found))
        from .. import classifier

        if self.classify is classifier.classify:  # a large batch (a snapshot) uses every core
            results = classifier.classify_many([(tool, context) for _, _, tool, context, _ in todo])
        else:
            results = [self.classify(tool, server=context) for _, _, tool, context, _ in todo]
        for (tool_id, tool_hash, tool, context, found), result in zip(todo, results):
            if found is not None:  # the same definition, read in a changed context: its row is updated
                pointers[tool_id] = (found[0], result.category, result.risk, result.confidence)
                refreshed.append([result.category, result.risk, json.dumps(list(result.flags)), result.confidence,
                                  json.dumps(list(result.evidence), ensure_ascii=False), now, found[0]])
                continue
            pointers[tool_id] = (next_id, result.category, result.risk, result.confidence)
            rows.append([next_id, tool_id, tool_hash, self.version, result.category, result.risk,
                         json.dumps(list(result.flags)), result.confidence,
                         json.dumps(list(result.evidence), ensure_ascii=False), now])
            known[(tool_id, tool_hash)] = pointers[tool_id]
            next_id += 1
        if refreshed:
            db.conn.executemany("UPDATE classifications SET category = ?, risk = ?, flags = ?, confidence = ?, "
                                "evidence = ?, classified_at = ? WHERE id = ?", refreshed)
        self.counts.classified += len(rows) + len(refreshed)
        return pointers, rows


def _authority(kind, bare):
    return 0 if bare else TOOL_AUTHORITY.get(kind, 1)


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
