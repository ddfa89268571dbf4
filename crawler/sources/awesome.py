"""An awesome-mcp-servers style list, as Markdown or as a rendered HTML page: a server inventory.

Each list item whose first link points at a code host (GitHub, GitLab, Bitbucket, Codeberg)
is a server: its name is the link text, its repository the link, its description the text
after " - ", its category the heading above it. Tools are not listed: they come from probing.
"""

import re

from ..http import PageError
from ..identity import repository_key
from ..pages import Page
from . import common

NAME = "awesome"
DEFAULT_URL = "https://raw.githubusercontent.com/punkpeye/awesome-mcp-servers/main/README.md"
_CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org")
_ITEM = re.compile(r"^\s{0,12}[-*+]\s+(?:\[[ xX]\]\s+)?\[(?P<text>(?:[^\[\]]|\[[^\]]*\])+)\]\((?P<url>[^)\s]+)(?:\s+\"[^\"]*\")?\)(?P<rest>.*)$")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
_SEPARATOR = re.compile(r"\s+[-–—:]\s+")
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
            category = _plain(re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.group("title")))
            continue
        item = _ITEM.match(line)
        if not item or not _is_repository(item.group("url")):
            continue
        entries.append((item.group("text"), item.group("url"), _description(item.group("rest")), category))
    return entries


def _description(rest):
    parts = _SEPARATOR.split(rest, maxsplit=1)
    text = parts[1] if len(parts) == 2 else ""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links in the description: keep their text
    return text.strip() or None


def _from_html(text):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    for noise in soup(["script", "style", "noscript", "template", "iframe", "svg"]):
        noise.decompose()
    entries = []
    for item in soup.find_all("li"):
        link = item.find("a", href=True)
        if link is None or not _is_repository(link["href"]):
            continue
        # The link must lead the item ("- [name](url) - description"), not sit in its prose.
        before = "".join(s for s in _texts_before(item, link)).strip()
        if before and not re.fullmatch(r"[\W_]*", before):
            continue
        label = link.get_text(" ", strip=True)
        whole = item.get_text(" ", strip=True)
        rest = whole.split(label, 1)[1] if label and label in whole else ""
        heading = item.find_previous(["h1", "h2", "h3", "h4"])
        category = heading.get_text(" ", strip=True) if heading else None
        entries.append((label, link["href"], _description(" " + rest.strip()), category))
    return entries


def _texts_before(item, link):
    for node in item.descendants:
        if node is link:
            return
        if isinstance(node, str):
            yield node
