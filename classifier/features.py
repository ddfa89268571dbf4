"""Turn an MCP tool definition into the plain facts the rules read.

Kept free of third-party imports: classifying must stay fast to import and cheap per tool.
"""

import re
from typing import NamedTuple

_CAMEL_1 = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL_2 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_TOKEN = re.compile(r"[a-z0-9]+")
_WORD = re.compile(r"[a-z][a-z0-9]*(?:'[a-z]+)?")
_EMPTY = frozenset()
_SCALARS = frozenset(("string", "number", "integer", "boolean"))
_NESTING = ("properties", "items", "anyOf", "oneOf", "allOf")

# How deep the schema walk goes: real schemas nest a few levels; hostile ones nest thousands.
_MAX_SCHEMA_DEPTH = 6
_MAX_PROPERTIES = 400


def name_tokens(name):
    """Split a tool name in any convention (snake, camel, kebab, dotted) into lowercase words.

    >>> name_tokens("storage_accountGet-v2.listAll")
    ['storage', 'account', 'get', 'v2', 'list', 'all']
    """
    lower = name.lower()
    if lower != name:  # camelCase or CAPS: split at case changes first
        lower = _CAMEL_2.sub(r"\1_\2", _CAMEL_1.sub(r"\1_\2", name)).lower()
    return _TOKEN.findall(lower)


def words(text):
    """Lowercase words of free text."""
    return _WORD.findall(text.lower())


find_words = _WORD.findall  # the words of text already in lowercase


class Phrase:
    """A regex tried only when the text holds one of its trigger words (or marks).

    Most descriptions hold none, and a set test is far cheaper than a large alternation. A phrase
    may also name its `anchors`: the strings every match starts with. Then the regex is tried only
    where an anchor occurs (found by a plain substring scan), which gives the same matches as
    searching the whole text for the same price as a short one: a large alternation, or one that
    opens with `\\b`, costs the regex engine a try at every character of a long description.
    """

    __slots__ = ("regex", "triggers", "marks", "anchors")

    def __init__(self, pattern, triggers, marks=(), anchors=()):
        self.regex = re.compile(pattern)
        self.triggers = frozenset(triggers.split())
        self.marks = tuple(marks)
        self.anchors = tuple(anchors)

    def may_match(self, text, text_words):
        return not self.triggers.isdisjoint(text_words) or any(map(text.__contains__, self.marks))

    def _starts(self, text):
        """Every position where an anchor occurs, in order."""
        starts = set()
        find = text.find
        for anchor in self.anchors:
            at = find(anchor)
            while at >= 0:
                starts.add(at)
                at = find(anchor, at + 1)
        return sorted(starts)

    def search(self, text, text_words):
        if self.triggers.isdisjoint(text_words) and not (self.marks and self.may_match(text, text_words)):
            return None
        if not self.anchors:
            return self.regex.search(text)
        match = self.regex.match
        for start in self._starts(text):
            found = match(text, start)
            if found is not None:
                return found
        return None

    def finditer(self, text, text_words):
        if not self.may_match(text, text_words):
            return
        if not self.anchors:
            yield from self.regex.finditer(text)
            return
        match = self.regex.match
        end = 0
        for start in self._starts(text):
            if start >= end:
                found = match(text, start)
                if found is not None:
                    yield found
                    end = found.end()


class Property(NamedTuple):
    """One input-schema property, wherever it sits in the schema."""

    name: str
    lower: str  # the name in lowercase
    key: str  # lowercase, without `_` and `-`: `outputDir`, `output_dir` -> `outputdir`
    type: str
    description: str  # as written (lowercase it where it is read)
    enum: tuple
    depth: int
    default: str  # a string default or const, as written: text a model reads too


_new_property = tuple.__new__  # Property's fields, in order, without the keyword-argument wrapper


class ToolFacts:
    """What the rules read of one tool; every field is computed once, here."""

    __slots__ = ("name", "tokens", "token_set", "title", "description", "words", "word_list", "properties",
                 "names", "keys", "annotations", "opening")

    def __init__(self, name, tokens, title, description, word_list, properties, annotations):
        self.name = name
        self.tokens = tokens
        self.token_set = frozenset(tokens)
        self.title = title
        self.description = description  # lowercased
        self.word_list = word_list  # the description's words in order
        self.words = frozenset(word_list)
        self.properties = properties
        if properties:
            self.names = {prop.lower for prop in properties}  # lowercase property names
            self.keys = {prop.key for prop in properties}  # canonical property names (see Property.key)
        else:
            self.names = self.keys = _EMPTY
        self.annotations = annotations
        self.opening = None  # the verb the description opens with, as (word, category); set by the rules


def _text(value):
    return value if isinstance(value, str) else ""


def schema_properties(schema):
    """Every named property of a JSON schema, breadth first, bounded in depth and count."""
    found = []
    if not isinstance(schema, dict):
        return found
    queue = [(schema, 0)]
    index = 0
    append = found.append
    while index < len(queue) and len(found) < _MAX_PROPERTIES:
        node, depth = queue[index]
        index += 1
        if depth > _MAX_SCHEMA_DEPTH:
            continue
        props = node.get("properties")
        if isinstance(props, dict):
            for prop_name, prop in props.items():
                if len(found) >= _MAX_PROPERTIES:
                    break
                if not isinstance(prop, dict):
                    prop = {}
                enum = prop.get("enum")
                if not isinstance(enum, list):
                    items = prop.get("items")
                    enum = items.get("enum") if isinstance(items, dict) else None
                if not isinstance(prop_name, str):
                    prop_name = str(prop_name)
                lower = prop_name.lower()
                kind = prop.get("type")
                if not isinstance(kind, str):
                    kind = _type_of(kind)
                description = prop.get("description")
                default = prop.get("default")
                if default is None:
                    default = prop.get("const")
                append(_new_property(Property, (
                    prop_name,
                    lower,
                    lower.replace("_", "").replace("-", "") if "_" in lower or "-" in lower else lower,
                    kind,
                    description if isinstance(description, str) else "",
                    tuple(map(str, enum[:200])) if isinstance(enum, list) else (),
                    depth,
                    default if isinstance(default, str) else "",
                )))
                if kind not in _SCALARS or "items" in prop or "properties" in prop or "anyOf" in prop \
                        or "oneOf" in prop or "allOf" in prop:
                    queue.append((prop, depth + 1))
        items = node.get("items")
        if isinstance(items, dict):
            queue.append((items, depth + 1))
        for key in ("anyOf", "oneOf", "allOf"):
            branches = node.get(key)
            if isinstance(branches, list):
                queue.extend((branch, depth + 1) for branch in branches[:50] if isinstance(branch, dict))
    return found


def _type_of(kind):
    """A property's `type` that is not a plain string: ["string", "null"] -> "string"."""
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "")
    return kind if isinstance(kind, str) else ""


def tool_facts(tool):
    """The facts of one MCP tool object (a mapping with `name`, `description`, ...)."""
    get = tool.get
    name = get("name")
    if type(name) is not str:
        name = _text(name)
    annotations = get("annotations")
    if type(annotations) is not dict:
        annotations = annotations if isinstance(annotations, dict) else {}
    title = get("title")
    if not title or type(title) is not str:
        title = _text(title) or (_text(annotations.get("title")) if annotations else "")
    description = get("description")
    if description and type(description) is str:
        description = description.lower()
        word_list = _WORD.findall(description)
    else:
        description = _text(description).lower()
        word_list = _WORD.findall(description) if description else []
    schema = get("inputSchema")
    return ToolFacts(name, name_tokens(name), title, description, word_list,
                     schema_properties(schema) if schema else [], annotations)
