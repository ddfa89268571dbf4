"""Turn an MCP tool definition into the plain facts the rules read.

Kept free of third-party imports: classifying must stay fast to import and cheap per tool.
"""

import re
from dataclasses import dataclass

_CAMEL_1 = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL_2 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_WORD = re.compile(r"[a-z][a-z0-9]*(?:'[a-z]+)?")

# How deep the schema walk goes: real schemas nest a few levels; hostile ones nest thousands.
_MAX_SCHEMA_DEPTH = 6
_MAX_PROPERTIES = 400


def name_tokens(name):
    """Split a tool name in any convention (snake, camel, kebab, dotted) into lowercase words.

    >>> name_tokens("storage_accountGet-v2.listAll")
    ['storage', 'account', 'get', 'v2', 'list', 'all']
    """
    name = _CAMEL_2.sub(r"\1_\2", _CAMEL_1.sub(r"\1_\2", name))
    return [token for token in _NON_WORD.split(name.lower()) if token]


def words(text):
    """Lowercase words of free text."""
    return _WORD.findall(text.lower())


class Phrase:
    """A regex tried only when the text holds one of its trigger words (or marks).

    Most descriptions hold none, and a set test is far cheaper than a large alternation.
    """

    __slots__ = ("regex", "triggers", "marks")

    def __init__(self, pattern, triggers, marks=()):
        self.regex = re.compile(pattern)
        self.triggers = frozenset(triggers.split())
        self.marks = tuple(marks)

    def may_match(self, text, text_words):
        if not self.triggers.isdisjoint(text_words):
            return True
        for mark in self.marks:
            if mark in text:
                return True
        return False

    def search(self, text, text_words):
        return self.regex.search(text) if self.may_match(text, text_words) else None

    def finditer(self, text, text_words):
        return self.regex.finditer(text) if self.may_match(text, text_words) else iter(())


@dataclass(slots=True)
class Property:
    """One input-schema property, wherever it sits in the schema."""

    name: str
    type: str
    description: str
    enum: tuple
    depth: int


@dataclass(slots=True)
class ToolFacts:
    name: str
    tokens: list
    title: str
    description: str  # lowercased
    words: frozenset  # of the description
    word_list: list  # the description's words in order
    properties: list
    annotations: dict


def _text(value):
    return value if isinstance(value, str) else ""


def schema_properties(schema):
    """Every named property of a JSON schema, breadth first, bounded in depth and count."""
    found = []
    if not isinstance(schema, dict):
        return found
    queue = [(schema, 0)]
    index = 0
    while index < len(queue) and len(found) < _MAX_PROPERTIES:
        node, depth = queue[index]
        index += 1
        if not isinstance(node, dict) or depth > _MAX_SCHEMA_DEPTH:
            continue
        props = node.get("properties")
        if isinstance(props, dict):
            for prop_name, prop in props.items():
                if not isinstance(prop, dict):
                    prop = {}
                enum = prop.get("enum")
                if not isinstance(enum, list):
                    items = prop.get("items")
                    enum = items.get("enum") if isinstance(items, dict) else None
                found.append(
                    Property(
                        name=str(prop_name),
                        type=_type_of(prop),
                        description=_text(prop.get("description")).lower(),
                        enum=tuple(str(v) for v in enum[:200]) if isinstance(enum, list) else (),
                        depth=depth,
                    )
                )
                queue.append((prop, depth + 1))
        items = node.get("items")
        if isinstance(items, dict):
            queue.append((items, depth + 1))
        for key in ("anyOf", "oneOf", "allOf"):
            branches = node.get(key)
            if isinstance(branches, list):
                queue.extend((branch, depth + 1) for branch in branches[:50])
    return found


def _type_of(prop):
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "")
    return kind if isinstance(kind, str) else ""


def tool_facts(tool):
    """The facts of one MCP tool object (a mapping with `name`, `description`, ...)."""
    name = _text(tool.get("name"))
    annotations = tool.get("annotations")
    if not isinstance(annotations, dict):
        annotations = {}
    title = _text(tool.get("title")) or _text(annotations.get("title"))
    description = _text(tool.get("description")).lower()
    word_list = _WORD.findall(description)
    return ToolFacts(
        name=name,
        tokens=name_tokens(name),
        title=title,
        description=description,
        words=frozenset(word_list),
        word_list=word_list,
        properties=schema_properties(tool.get("inputSchema")),
        annotations=annotations,
    )
