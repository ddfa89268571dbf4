"""An awesome-mcp-servers style list, as Markdown or as a rendered HTML page: a server inventory.

Each list item whose first link points at a code host (GitHub, GitLab, Bitbucket, Codeberg)
is a server: its name is the link text, its repository the link, its description the text
after " - ", its category the heading above it. Tools are not listed: they come from probing.

HTML is read in one pass with the standard library's HTMLParser: walking a BeautifulSoup tree for
the text before each link was quadratic, and a hostile page of 2,000 items took seconds.
"""

import re
from html.parser import HTMLParser

from ..http import PageError
from ..identity import repository_key
from ..pages import Page
from . import common

NAME = "awesome"
DEFAULT_URL = "https://raw.githubusercontent.com/punkpeye/awesome-mcp-servers/main/README.md"
_CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org")
# Every pattern here runs over lines of a page from the network, up to 64 MB: each must stay linear.
# A bracket inside brackets stops at the next "[", a link target at the next parenthesis, a heading's
# closing #s are stripped in Python, a separator is sought only where a run of spaces begins:
# with `.+?\s*#*\s*$`, `[^\]]*`, `[^)]*` or a bare `\s+` a hostile line of spaces or brackets took
# minutes (quadratic and cubic backtracking).
_ITEM = re.compile(r"^\s{0,12}[-*+]\s+(?:\[[ xX]\]\s+)?\[(?P<text>(?:[^\[\]]|\[[^\[\]]*\])+)\]\((?P<url>[^)\s]+)(?:\s+\"[^\"]*\")?\)(?P<rest>.*)$")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(?P<title>.+)$")
_SEPARATOR = re.compile(r"(?<!\s)\s+[-–—:]\s+")
_LINK = re.compile(r"\[([^\[\]]*)\]\([^()]*\)")
MAX_ITEMS = 50_000


class AwesomeSource:
    kind = NAME

    def __init__(self, url=None, *, name=None):
        self.url = url or DEFAULT_URL
        self.location = self.url
        self.name = name or (NAME if self.url == DEFAULT_URL else f"{NAME}:{self.url}")

    async def pages(self, http, state):
        fetched = await http.get(self.url)
        text = fetched.text()
        manifests, errors = parse_list(text, fetched.url, fetched.headers.get("content-type", ""))
        yield Page(manifests=manifests, state={}, url=fetched.url, errors=errors,
                   not_modified=fetched.not_modified, done=True)


def parse_list(text, where, content_type=""):
    """(manifests, errors) from Markdown or HTML text."""
    looks_html = "html" in content_type.lower() or text.lstrip()[:1] == "<"
    entries = _from_html(text) if looks_html else _from_markdown(text)
    if not entries:
        raise PageError(f"{where}: no list items linking to a repository: not an awesome list")
    manifests, errors = [], []
    for number, (label, url, description, category) in enumerate(entries[:MAX_ITEMS], 1):
        manifest = _manifest(label, url, description, category, f"{where}: item {number}", errors)
        if manifest is not None:
            manifests.append(manifest)
    return manifests, errors


def _manifest(label, url, description, category, where, errors):
    from ..manifest import ServerManifest

    name = common.server_name(_plain(label), where, errors)
    if name is None:
        return None
    meta = common.compact({"repository": url, "category": common.text(category, 200)})
    return ServerManifest(name=name, source=NAME, tools=None, description=common.verbatim(description), meta=meta)


def _is_repository(url):
    host = re.match(r"^https?://(?:www\.)?([^/]+)/", url or "")
    return bool(host) and host.group(1).lower() in _CODE_HOSTS and repository_key(url) is not None


def _plain(markdown):
    """Link text without Markdown emphasis or code marks."""
    return re.sub(r"[`*_]+", "", markdown).strip()


def _from_markdown(text):
    entries, category = [], None
    in_fence = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        heading = _HEADING.match(line)
        if heading:
            category = _plain(_LINK.sub(r"\1", _heading_title(heading.group("title"))))
            continue
        item = _ITEM.match(line)
        if not item or not _is_repository(item.group("url")):
            continue
        entries.append((item.group("text"), item.group("url"), _description(item.group("rest")), category))
    return entries


def _heading_title(title):
    """A heading's text without its closing #s (`## Files ##` -> `Files`)."""
    title = title.rstrip()
    return title.rstrip("#").rstrip() or title


def _description(rest):
    parts = _SEPARATOR.split(rest, maxsplit=1)
    text = parts[1] if len(parts) == 2 else ""
    text = _LINK.sub(r"\1", text)  # links in the description: keep their text
    return text.strip() or None


def _from_html(text):
    """Entries of a rendered page: one pass of the standard library's HTML parser.

    Not BeautifulSoup, walked item by item: it nests every unclosed <li> in the one before (and
    links such a tree in quadratic time), each item's get_text() read all the items nested in it,
    and each find_previous() of a heading walked back through the page. 2,000 items took 8 to 12 s,
    and time grew with the square of their number. Here an <li> closes the open one, as HTML says,
    and each item is read once, as far as its own content.
    """
    parser = _ListParser()
    parser.feed(text)
    parser.close()
    parser.finish()
    return [entry for _, entry in sorted(parser.entries, key=lambda pair: pair[0])]


_HEADINGS = ("h1", "h2", "h3", "h4")
_NOISE = ("script", "style", "noscript", "template", "iframe", "svg")


class _Item:
    def __init__(self, number, category):
        self.number, self.category = number, category
        self.before, self.label, self.after = [], [], []
        self.href, self.link_depth = None, 0


class _ListParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # open <ul>/<ol> (as the tag name) and <li> (as an _Item), innermost last
        self.noise = 0
        self.heading = None  # the text of an open heading
        self.category = None
        self.count = 0
        self.entries = []  # (number, entry): in the order the items begin

    def handle_starttag(self, tag, attrs):
        if self.noise or tag in _NOISE:
            self.noise += tag in _NOISE
            return
        item = self._item()
        if tag in _HEADINGS:
            self.heading = []
        elif tag in ("ul", "ol"):
            self.stack.append(tag)
        elif tag == "li":
            if item is not None:  # <li> after <li>: the first one ends, as in HTML
                self._close_item()
            self.count += 1
            self.stack.append(_Item(self.count, self.category))
        elif tag == "a" and item is not None:
            if item.link_depth:
                item.link_depth += 1
            elif item.href is None:
                href = dict(attrs).get("href")
                if href is not None:
                    item.href, item.link_depth = href, 1

    def handle_startendtag(self, tag, attrs):
        if tag not in ("a", "li", "ul", "ol", *_NOISE, *_HEADINGS):  # <br/>, <img/>: nothing opens
            return
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if self.noise:
            self.noise -= tag in _NOISE
            return
        item = self._item()
        if tag in _HEADINGS and self.heading is not None:
            self.category = " ".join(self.heading) or None
            self.heading = None
        elif tag == "a" and item is not None and item.link_depth:
            item.link_depth -= 1
        elif tag == "li" and item is not None:
            self._close_item()
        elif tag in ("ul", "ol") and tag in self.stack:
            while self.stack:
                top = self.stack.pop()
                if isinstance(top, _Item):
                    self._finish(top)
                elif top == tag:
                    break

    def handle_data(self, data):
        data = data.strip()
        if self.noise or not data:
            return
        if self.heading is not None:
            self.heading.append(data)
        item = self._item()
        if item is not None:
            (item.label if item.link_depth else item.after if item.href is not None else item.before).append(data)

    def _item(self):
        return self.stack[-1] if self.stack and isinstance(self.stack[-1], _Item) else None

    def _close_item(self):
        self._finish(self.stack.pop())

    def finish(self):
        while self.stack:
            top = self.stack.pop()
            if isinstance(top, _Item):
                self._finish(top)

    def _finish(self, item):
        if item.href is None or not _is_repository(item.href):
            return
        # The link must lead the item ("- [name](url) - description"), not sit in its prose.
        before = " ".join(item.before)
        if before and not re.fullmatch(r"[\W_]*", before):
            return
        entry = (" ".join(item.label), item.href, _description(" " + " ".join(item.after)), item.category)
        self.entries.append((item.number, entry))
