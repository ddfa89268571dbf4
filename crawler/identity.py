"""Who a server is, whatever a source calls it: keys to recognise one server across sources.

Sources put what they know in a manifest's `meta` under these names, and `identity_keys` turns
them into normalized keys, strongest first:

  registry_name   the name in an MCP registry (reverse-DNS, e.g. io.github.owner/server)
  packages        [{registryType, identifier}] as in server.json (npm, pypi, oci, nuget)
  repository      the source repository's URL, plus `subfolder` for a server inside a monorepo

Keys are only ever compared exactly: look-alike names (unicode confusables) never merge.
"""

import re
import unicodedata
from urllib.parse import urlsplit

_CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org")
_PACKAGE_KINDS = {"npm", "pypi", "oci", "nuget", "cargo", "gem", "docker"}


def clean_text(value, limit=None):
    """A string with control and invisible format characters removed, NFC-normalized; None if empty."""
    if not isinstance(value, str):
        return None
    if value.isascii() and value.isprintable():  # the common case, without a look at every character
        text = value.strip()
    else:
        text = "".join(c for c in unicodedata.normalize("NFC", value)
                       if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co")).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text or None


def check_name(value, limit=200):
    """A server name from untrusted input, or a reason it is unusable: (name, None) or (None, why).

    Only servers: a server name becomes a file name and an identity. Tool names are kept as listed
    (see sources.common.tools) and flagged by the classifier when they hide something."""
    if not isinstance(value, str):
        return None, f"name must be a string, got {type(value).__name__}"
    name = unicodedata.normalize("NFC", value).strip()
    if not name:
        return None, "name is empty"
    if len(name) > limit:
        return None, f"name is longer than {limit} characters"
    bad = [c for c in name if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")]
    if bad:
        return None, f"name {name[:60]!r} contains control or invisible characters"
    return name, None


def repository_key(url, subfolder=None):
    """`host/owner/repo[/subfolder]`, lowercased, from a repository or browse URL; None if not one."""
    if not isinstance(url, str) or not url.strip():
        return None
    url = url.strip()
    if url.startswith("git@") and ":" in url:  # git@github.com:owner/repo.git
        host, _, path = url[4:].partition(":")
        url = f"https://{host}/{path}"
    if "://" not in url:
        url = "https://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    if not host or not re.fullmatch(r"[a-z0-9.-]+", host):
        return None
    segments = [s for s in parts.path.split("/") if s]
    if host in _CODE_HOSTS:
        if len(segments) < 2:
            return None
        owner, repo = segments[0], re.sub(r"\.git$", "", segments[1])
        rest = segments[2:]
        # github.com/o/r/tree/<branch>/<path>: the path is the server's folder.
        if len(rest) >= 2 and rest[0] in ("tree", "blob", "-"):
            rest = rest[2:] if rest[0] != "-" else rest[3:]
            if subfolder is None and rest:
                subfolder = "/".join(rest)
        key = f"{host}/{owner}/{repo}"
    else:
        path = "/".join(segments)
        key = f"{host}/{re.sub(r'.git$', '', path)}".rstrip("/")
    if isinstance(subfolder, str):
        folder = "/".join(s for s in subfolder.strip().split("/") if s not in ("", "."))
        if folder:
            key = f"{key}/{folder}"
    return key.lower()


def package_key(registry_type, identifier):
    """`kind:identifier` for a package, without version or tag; None when not identifying."""
    if not isinstance(registry_type, str) or not isinstance(identifier, str):
        return None
    kind, ident = registry_type.strip().lower(), identifier.strip()
    if kind == "docker":
        kind = "oci"
    if kind not in _PACKAGE_KINDS or not ident or "://" in ident:
        return None
    if kind == "oci":
        ident = ident.split("@", 1)[0]
        last = ident.rsplit("/", 1)[-1]
        if ":" in last:  # a tag, not a port
            ident = ident[: len(ident) - len(last)] + last.split(":", 1)[0]
        if ident.count("/") == 0:
            ident = f"library/{ident}"
        first = ident.split("/", 1)[0]
        if "." not in first and ":" not in first and first != "localhost":
            ident = f"docker.io/{ident}"
        ident = ident.lower()
    elif kind == "npm":
        ident = ident.lower() if not ident[1:].count("@") else ident.rsplit("@", 1)[0].lower()
    elif kind == "pypi":
        ident = re.sub(r"[-_.]+", "-", ident.split("==", 1)[0]).lower()
    else:
        ident = ident.lower()
    return f"{kind}:{ident}"


def identity_keys(meta):
    """[(kind, value)] of a manifest's meta, strongest first, without duplicates."""
    if not isinstance(meta, dict):
        return []
    keys = []
    name = meta.get("registry_name")
    if isinstance(name, str) and name.strip():
        keys.append(("registry", name.strip()))
    for package in meta.get("packages") or []:
        if isinstance(package, dict):
            key = package_key(package.get("registryType"), package.get("identifier"))
            if key:
                keys.append(("package", key))
    repo = repository_key(meta.get("repository"), meta.get("subfolder"))
    if repo:
        keys.append(("repository", repo))
    seen, unique = set(), []
    for key in keys:
        if key not in seen:
            seen.add(key)
            unique.append(key)
    return unique
