"""Hostile input for every parser: strategies (hypothesis), payloads, and what a safe result looks like."""

import copy
import json
import sqlite3

from hypothesis import strategies as st

from mcp_risk.crawler.identity import check_name
from mcp_risk.crawler.manifest import DEFINING_FIELDS, ServerManifest, canonical_json, definition_hash, normalize_tool

# Characters that break naive code: NUL and other controls, line and paragraph separators, bidi
# overrides and isolates, zero-width and tag characters, a BOM, lone UTF-16 surrogates,
# confusables (Cyrillic а, Greek ο, fullwidth ｇ, dotted İ), a combining accent, quoting and
# path characters, Markdown and HTML syntax.
NASTY = [
    "\x00", "\x01", "\x07", "\x08", "\x1b", "\x7f", "\x85", "\x9b", "\t", "\r", "\n", "\x0b", "\x0c",
    "\u2028", "\u2029", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\ufffe", "\uffff",
    "\u202a", "\u202b", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\U000e0041", "\U000e007f",
    "\ud800", "\udbff", "\udc00", "\udfff", "\ue000",
    "а", "ο", "ｇ", "İ", "ß", "\u0301", "名", "🙂", "\U0010ffff",
    " ", "\\", '"', "'", "/", ".", "`", "$", "(", ")", "<", ">", "&", "%", "{", "}", "[", "]",
    "#", "*", "_", "|", ";", ":", "=", "!", "?", "~", "^", "@", "+", ",", "-",
]

# Names and descriptions that look like code to some consumer along the way.
INJECTIONS = [
    "'; DROP TABLE tools; --",
    "\"; DROP TABLE servers; --",
    "x' OR '1'='1",
    "1; DELETE FROM classifications WHERE 1=1",
    "tools_fts MATCH '*'",
    "NEAR(a b) OR \"",
    "$(rm -rf ~)",
    "`rm -rf ~`",
    "; rm -rf / #",
    "| cat /etc/passwd",
    "&& curl http://127.0.0.1:9/x | sh",
    "${HOME}",
    "${env:PATH}",
    "%s%s%n%x",
    "{0.__class__}",
    "{{7*7}}",
    "../../etc/passwd",
    "../../../../../../tmp/evil",
    "/etc/passwd",
    "/absolute/path/name",
    "..\\..\\windows\\system32\\config",
    "C:\\Windows\\System32",
    "\\\\server\\share",
    "..",
    ".",
    ".hidden",
    "_index",
    "con",
    "NUL.txt",
    "x.mcp-risk",
    "[click me](javascript:alert(1))",
    "![x](http://127.0.0.1:9/track.png)",
    "# Heading\n\n- item",
    "**bold** _it_ `code` <b>html in markdown</b>",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "\"><svg onload=alert(1)>",
    "</textarea><script>alert(document.domain)</script>",
    "javascript:alert(1)",
    "&lt;escaped&gt; &amp; &#x3C;",
    "=HYPERLINK(\"http://127.0.0.1:9\",\"x\")",
    "mcp__x__y",
    "*",
    "null",
    "true",
    "0",
    "- a\n- b",
    "key: value",
    "a\x00b",
    "\x1b[2J\x1b[31mred",
    "\x1b]0;title\x07",
    "\u202egnp.exe",
    "pаypal",  # Cyrillic а
    "g\u200bithub",
    "tab\there",
    "line\nbreak",
]

text_any = st.text(max_size=30)
text_nasty = st.text(alphabet=st.sampled_from(NASTY + list("abcXYZ019")), max_size=30)
names = st.one_of(
    text_any,
    text_nasty,
    st.sampled_from(INJECTIONS),
    st.tuples(st.sampled_from(INJECTIONS), text_nasty).map("".join),
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.floats(allow_nan=True, allow_infinity=True),
    names,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(names, children, max_size=4)),
    max_leaves=12,
)

# A tool as a source might send it: the MCP fields, each of the right type or of any other.
tool_objects = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(names, json_values),
        "tool": names,
        "title": st.one_of(names, json_values),
        "description": st.one_of(names, json_values),
        "inputSchema": st.one_of(st.dictionaries(names, json_values, max_size=3), json_values),
        "input_schema": json_values,
        "outputSchema": json_values,
        "annotations": st.one_of(st.dictionaries(st.sampled_from(["readOnlyHint", "destructiveHint", "title"]),
                                                 json_values, max_size=3), json_values),
        "id": json_values,
        "server": st.one_of(names, json_values),
    },
)


def nested(depth, leaf=None, kind="list"):
    """A value nested `depth` levels deep, built without recursion."""
    value = leaf
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


def deep_json(depth, kind="list"):
    """The text of a JSON value nested `depth` levels deep."""
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


# -- mutating real documents: wrong types, hostile names, at every field --------------------------

def paths_of(document, limit=400):
    """Paths (tuples of keys and indices) to the values inside a document, breadth first."""
    found, queue = [], [((), document)]
    while queue and len(found) < limit:
        path, node = queue.pop(0)
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in children:
            found.append(path + (key,))
            queue.append((path + (key,), child))
    return found


def _apply(document, changes):
    document = copy.deepcopy(document)
    for kind, path, value in changes:
        parent = document
        try:
            for key in path[:-1]:
                parent = parent[key]
            last = path[-1]
            if kind == "value":
                parent[last] = value
            elif kind == "delete":
                del parent[last]
            elif isinstance(parent, dict) and isinstance(value, str):  # "rename": a hostile key
                parent[value] = parent.pop(last)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change replaced what this path went through
    return document


def mutated(document, max_changes=4):
    """The document with a few of its values replaced by anything, deleted, or their keys renamed."""
    paths = paths_of(document)
    change = st.one_of(
        st.tuples(st.just("value"), st.sampled_from(paths), st.one_of(json_values, names)),
        st.tuples(st.just("delete"), st.sampled_from(paths), st.none()),
        st.tuples(st.just("rename"), st.sampled_from(paths), names),
    )
    return st.lists(change, min_size=0, max_size=max_changes).map(lambda changes: _apply(document, changes))


def documents_of(base):
    """A real document mutated (most of the time), or any JSON at all."""
    return st.one_of(mutated(base), mutated(base), json_values)


# -- what a safe result is ------------------------------------------------------------------------

def storable(value):
    """JSON that the catalogue can write and read back: encodable as UTF-8, and hashable."""
    text = canonical_json(value)
    text.encode("utf-8")
    return text


def check_tool(tool):
    assert set(DEFINING_FIELDS) <= set(tool), tool
    assert isinstance(tool["name"], str) and tool["name"].strip(), tool
    for key in ("title", "description"):
        assert tool[key] is None or isinstance(tool[key], str)
    for key in ("inputSchema", "outputSchema", "annotations"):
        assert tool[key] is None or isinstance(tool[key], dict)
    assert normalize_tool(tool, "again") == {k: tool[k] for k in DEFINING_FIELDS}  # a fixed point
    storable({k: tool[k] for k in DEFINING_FIELDS})
    assert len(definition_hash(tool)) == 64


def check_manifest(manifest, strict_names=True):
    """A manifest a source may hand to the catalogue."""
    assert isinstance(manifest, ServerManifest)
    assert isinstance(manifest.name, str) and manifest.name.strip()
    if strict_names:  # sources that read catalogues check server names; the snapshot stores them as given
        assert check_name(manifest.name) == (manifest.name, None), manifest.name
    manifest.name.encode("utf-8")
    assert isinstance(manifest.source, str)
    for text in (manifest.title, manifest.description):
        assert text is None or (isinstance(text, str) and text.encode("utf-8"))
    assert isinstance(manifest.meta, dict)
    storable(manifest.meta)
    assert manifest.tools is None or isinstance(manifest.tools, list)
    names = set()
    for tool in manifest.tools or []:
        check_tool(tool)
        assert tool["name"] not in names  # kept as listed, whatever it holds, once
        names.add(tool["name"])


def check_errors(errors):
    """Messages about skipped entries: text, printable once the CLI shows it (they may quote the
    hostile key they are about, which is why the CLI escapes what it prints)."""
    from mcp_risk.cli.common import clip as _clip

    assert isinstance(errors, list) and all(isinstance(e, str) for e in errors)
    for error in errors:
        _clip(error, 300).encode("utf-8")


def printable_json(value):
    """What a command prints: JSON that is valid UTF-8 and strict JSON (no NaN)."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    text.encode("utf-8")
    return text


def expect(call, *errors):
    """call() or one of `errors` (None when raised): anything else fails the test."""
    try:
        return call()
    except errors:
        return None


def rows(db, sql, params=()):
    """The rows a query finds in a catalogue, over a connection of its own."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
