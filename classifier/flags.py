"""The seven flags of the taxonomy, each with the evidence that set it."""

import re

from .features import Phrase


# Unicode "tag" characters and bidirectional overrides hide text from people, not from models;
# zero-width spaces are common copy-and-paste debris and are not counted.
_HIDDEN_CHARS = re.compile("[\U000e0000-\U000e007f\u202a-\u202e\u2066-\u2069]")
# Instructions to the model that no tool's job needs. Each pattern is tried only when one of its
# trigger words (or marks) is in the description. Phrases that real tools use for their own job
# ("ignore the other parameters", "before using this tool, read the file") are not signals.
_SUSPICIOUS = (
    Phrase(r"<\s*/?\s*(?:important|system|hidden|sudo|admin)\s*>|<!--", "", marks=("<",), anchors=("<",)),
    Phrase(r"\bignore (?:all |any )?(?:the )?(?:previous|prior|above|earlier|preceding) (?:\w+ )?(?:instructions|prompts?|rules)\b|"
           r"\bdisregard (?:all |any )?(?:the )?(?:previous|prior|above|earlier) ", "ignore disregard",
           anchors=("ignore ", "disregard ")),
    Phrase(r"\b(?:do not|don't|never) (?:tell|mention|inform|notify|reveal|show|alert)\b[^.]{0,20}\buser\b|"
           r"\bwithout (?:telling|informing|notifying|alerting) the user\b", "user",
           anchors=("do not ", "don't ", "never ", "without ")),
    Phrase(r"(?:pass|include|send|put|add|provide) [^.]{0,40}(?:api[_ ]?keys?|passwords?|credentials?|"
           r"private keys?|ssh keys?|secrets?|tokens?|contents?) [^.]{0,30}\b(?:as|in|into) (?:the |a )?"
           r"['\"`]?(?:sidenote|side note|note|notes)\b", "sidenote side note notes",
           anchors=("pass ", "include ", "send ", "put ", "add ", "provide ")),
    Phrase(r"\b(?:secretly|covertly)\b|\bthis is (?:very )?important[^.]{0,30}\bor the (?:tool|system|application) will\b",
           "secretly covertly important", anchors=("secretly", "covertly", "this is ")),
)
# Sensitive files that a tool may name for its own job (an SSH tool, a key manager) but that
# elsewhere mark a request for another program's secrets.
_SENSITIVE_FILES = Phrase(
    r"~/\.ssh|\bid_rsa\b|\.ssh/|/etc/passwd|/etc/shadow|\bmcp\.json\b|claude_desktop_config|"
    r"\.aws/credentials|\.npmrc\b|\.netrc\b", "",
    marks=(".ssh", "id_rsa", "/etc/", "mcp.json", "claude_desktop_config", ".aws", ".npmrc", ".netrc"),
    anchors=("~/.ssh", "id_rsa", ".ssh/", "/etc/passwd", "/etc/shadow", "mcp.json", "claude_desktop_config",
             ".aws/credentials", ".npmrc", ".netrc"),
)
_SENSITIVE_JOBS = frozenset("ssh key keys host hosts vm vmss machine credential credentials config configs "
                            "secret secrets known server servers".split())
_SUSPICIOUS_TRIGGERS = frozenset().union(*(p.triggers for p in _SUSPICIOUS))
_SUSPICIOUS_MARKS = tuple(mark for p in _SUSPICIOUS for mark in p.marks)
assert not _SENSITIVE_FILES.triggers  # (found by its marks alone)
assert _SUSPICIOUS_MARKS == ("<",)  # (one mark: a plain substring test)
_SUSPICIOUS_MARK = _SUSPICIOUS_MARKS[0]
_SECRET_WORDS = Phrase(
    r"\b(?:secrets?|passwords?|passwd|credentials?|api[ _-]?keys?|apikeys?|private[ _-]?keys?|"
    r"access[ _-]?tokens?|auth(?:entication)?[ _-]?tokens?|bearer tokens?|refresh[ _-]?tokens?|"
    r"client[ _-]?secrets?|mnemonic|seed phrase|passphrase|key ?vault|keychain|ssh keys?|"
    r"signing keys?|oauth tokens?|personal access tokens?)\b",
    "secret secrets password passwords passwd credential credentials api apikey apikeys private "
    "access auth authentication bearer refresh client mnemonic seed passphrase key keyvault vault "
    "keychain ssh signing oauth personal",
    anchors=("secret", "password", "passwd", "credential", "api", "private", "access", "auth", "bearer", "refresh",
             "client", "mnemonic", "seed phrase", "passphrase", "key", "ssh", "signing", "oauth", "personal"),
)
_SECRET_PROPERTIES = frozenset("""
    password passwd secret secret_key secretkey api_key apikey private_key privatekey access_token
    accesstoken auth_token authtoken client_secret mnemonic passphrase credentials credential
    token bearer_token refresh_token secret_value ssh_key""".split())
_SECRET_TOKENS = frozenset("secret secrets password passwords credential credentials apikey "
                           "keyvault vault mnemonic passphrase keychain".split())
_PATH_PROPERTIES = frozenset("""
    path paths file_path filepath filename file_name file files dir directory dirpath folder
    folder_path target_path output_path output_file input_path input_file source_path
    destination_path dest_path save_path local_path abs_path absolute_path relative_path
    working_directory cwd root_path project_path workspace_path""".split())
_FILE_TOKENS = frozenset("file files directory directories dir folder folders path".split())
_REMOTE_STORAGE = frozenset("drive gdrive s3 bucket blob storage dropbox box onedrive sharepoint gcs "
                            "github gitlab repo repository notion confluence figma slack".split())
_LOCAL_WORDS = frozenset("local locally filesystem disk clipboard terminal workspace directory "
                         "directories".split())
_REMOTE_WORDS = frozenset("api http https url urls web website websites online remote cloud internet "
                          "service server saas endpoint endpoints webhook webhooks email emails slack "
                          "github account".split())
_LOCAL_TOKENS = frozenset("""
    think thinking thought sequentialthinking calculate calculator math compute convert time
    timezone date clipboard terminal shell file files directory dir folder path local memory
    regex uuid hash random format lint""".split())
_SEND_TOKENS = frozenset("send email mail sms message messages post publish tweet notify notification "
                         "webhook reply forward share broadcast dm invite comment".split())
_DESTINATION_PROPERTIES = frozenset("""
    to recipient recipients email emails email_address to_email cc bcc channel channel_id chat_id
    phone phone_number number webhook webhook_url url endpoint address user_id username
    conversation_id thread_id room room_id""".split())


def flags_evidence(facts, category, found):
    """Set flags as {flag: evidence text}."""
    flags = {}
    text = facts.description
    text_words = facts.words
    tokens = facts.token_set
    names = facts.names

    match = None
    if not _SUSPICIOUS_TRIGGERS.isdisjoint(text_words) or _SUSPICIOUS_MARK in text:
        for phrase in _SUSPICIOUS:
            match = phrase.search(text, text_words)
            if match:
                break
    if match is None and tokens.isdisjoint(_SENSITIVE_JOBS) and any(map(text.__contains__, _SENSITIVE_FILES.marks)):
        match = _SENSITIVE_FILES.search(text, text_words)
    if match:
        flags["suspicious_instructions"] = f"description addresses the model: \"{match.group(0).strip()}\""
    elif not (text.isascii() and facts.name.isascii() and facts.title.isascii()) and _HIDDEN_CHARS.search(
            " ".join((facts.name, facts.title, text))):
        # (the hidden characters are never ASCII, so most tools are cleared by one flag test)
        flags["suspicious_instructions"] = "description hides invisible characters"

    if not tokens.isdisjoint(_SECRET_TOKENS) or ("api" in tokens and "key" in tokens):
        flags["touches_secrets"] = "name speaks of secrets or keys"
    elif not names.isdisjoint(_SECRET_PROPERTIES):
        flags["touches_secrets"] = f"takes a credential in `{sorted(names & _SECRET_PROPERTIES)[0]}`"
    elif not _SECRET_WORDS.triggers.isdisjoint(text_words):
        match = _SECRET_WORDS.search(text, text_words)
        if match:
            flags["touches_secrets"] = f"description mentions \"{match.group(0)}\""

    remote = not tokens.isdisjoint(_REMOTE_STORAGE)
    if not remote:
        if not names.isdisjoint(_PATH_PROPERTIES):
            path_props = sorted(p.name for p in facts.properties if p.lower in _PATH_PROPERTIES and p.depth <= 1)
            if path_props:
                flags["filesystem"] = f"takes a file path in `{path_props[0]}`"
        if ("filesystem" not in flags and not tokens.isdisjoint(_FILE_TOKENS)
                and not text_words.isdisjoint(_LOCAL_WORDS)):
            flags["filesystem"] = "works on local files"

    sends = (category in ("write", "execute", "financial") and not tokens.isdisjoint(_SEND_TOKENS)
             and tokens & _SEND_TOKENS)
    if sends and (not names or not names.isdisjoint(_DESTINATION_PROPERTIES)):
        destination = sorted(names & _DESTINATION_PROPERTIES)
        where = f" to `{destination[0]}`" if destination else ""
        flags["sends_data_out"] = f"`{sorted(sends)[0]}` sends caller-chosen content{where}"
    elif found and any("HTTP" in e[2] for e in found):
        flags["sends_data_out"] = "sends requests to a caller-chosen URL"

    hint = facts.annotations.get("openWorldHint") if facts.annotations else None
    if hint is True:
        flags["open_world"] = "annotation openWorldHint=true (author's hint)"
    elif hint is False:
        pass
    elif "sends_data_out" in flags or not text_words.isdisjoint(_REMOTE_WORDS):
        flags["open_world"] = "reaches a remote service"
    elif not (not tokens.isdisjoint(_LOCAL_TOKENS) or "filesystem" in flags
              or not text_words.isdisjoint(_LOCAL_WORDS)):
        flags["open_world"] = "no sign it stays on this machine"

    if category in ("read", "execute") or not tokens.isdisjoint(_RETURNING_TOKENS):
        _content_flags(facts, category, flags)
    return flags


# -- what a call returns: the user's own data, or text that strangers wrote ---------------------
# Tools that hand content back; writes and deletes mostly return an id or a status.
_RETURNING_TOKENS = frozenset("navigate open goto browse capture screenshot snapshot clipboard".split())
# Text that people other than the user write: the web, search results, inbound mail and messages,
# public issues, comments, posts and reviews.
_STRANGERS_TOKENS = frozenset("""scrape scraper scraping crawl crawler serp webpage webpages website websites web
    html markdown url urls page pages browser tab tabs screenshot snapshot console visible dom reddit tweet
    tweets twitter hackernews rss feed feeds news youtube transcript comments comment reviews review posts
    inbox""".split())
_STRANGERS_WORDS = frozenset("""scrape scrapes scraping crawl crawls crawling webpage webpages website websites
    serp html markdown browser""".split())
_SEARCH_ENGINES = frozenset("google bing yandex duckduckgo brave serp search_engine engine internet web".split())
_MAIL_READS = frozenset("email emails mail mails message messages inbox thread threads chat chats "
                        "conversation conversations".split())
# The user's own records: their files, mail and messages, documents, rows, tickets, accounts,
# money records and logs.
_OWN_TOKENS = frozenset("""file files document documents doc docs note notes email emails mail mails message
    messages inbox calendar event events contact contacts customer customers transaction transactions
    balance balances invoice invoices bill bills expense expenses budget budgets cost costs billing
    payment payments account accounts ledger journal row rows record records table tables database
    databases query queries sql item items log logs crash crashes ticket tickets secret secrets
    credential credentials password passwords clipboard history profile user users order orders
    subscription subscriptions vault""".split())
_PUBLIC_TOKENS = frozenset("""pricing price prices catalog catalogue available public docs documentation
    schema schemas guidance help template templates best practices regions region versions""".split())
_PAGE_TOKENS = frozenset("page pages browser tab tabs screen html dom url".split())


def _content_flags(facts, category, flags):
    tokens = facts.token_set
    words = facts.words
    names = facts.names
    untrusted = None
    if not tokens.isdisjoint(_STRANGERS_TOKENS - _PAGE_TOKENS - {"screenshot", "snapshot", "console", "visible"}):
        untrusted = f"returns text others write (`{sorted(tokens & _STRANGERS_TOKENS)[0]}`)"
    elif "search" in tokens and not (tokens | words).isdisjoint(_SEARCH_ENGINES - {"engine"}):
        untrusted = "returns web search results"
    elif not tokens.isdisjoint(_PAGE_TOKENS | {"screenshot", "snapshot", "console", "visible", "navigate", "goto"}) \
            and not (tokens | words).isdisjoint(_PAGE_TOKENS | {"webpage", "website"}):
        untrusted = "returns a web page's content"
    elif "fetch" in tokens and (not names.isdisjoint(("url", "urls", "uri")) or not words.isdisjoint(_STRANGERS_WORDS)):
        untrusted = "fetches a caller-chosen URL"
    elif category == "read" and not tokens.isdisjoint(_MAIL_READS):
        untrusted = f"returns inbound {sorted(tokens & _MAIL_READS)[0]}: written by others"
    if untrusted:
        flags["untrusted_content"] = untrusted
    private = None
    if category == "read" or (category == "execute" and "execute" not in (tokens & {"navigate"})):
        own = tokens & _OWN_TOKENS
        if "touches_secrets" in flags and category == "read":
            private = "returns credentials"
        elif "filesystem" in flags and category == "read":
            private = "reads the user's files"
        elif category == "execute" and any(p.lower in ("sql", "query", "statement") for p in facts.properties[:20]):
            private = "queries the user's database"
        elif own and tokens.isdisjoint(_PUBLIC_TOKENS) and not untrusted:
            private = f"returns the user's own `{sorted(own)[0]}` records"
    if private:
        flags["private_data"] = private
