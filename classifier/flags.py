"""The seven flags of the taxonomy, each with the evidence that set it."""

import re
import unicodedata

from .features import Phrase, find_words, name_tokens
from .poisoning import poisoning_evidence


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
                           "keyvault vault mnemonic passphrase keychain login signin authenticate oauth".split())
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
_EXPORTING_TOKENS = frozenset("export exports upload push sync backup forward share publish post webhook".split())
_CALLER_DESTINATIONS = frozenset("url uri endpoint webhook webhook_url destination destination_url target_url callback_url "
                                 "to recipient recipients email".split())
_DESTINATION_PROPERTIES = frozenset("""
    to recipient recipients email emails email_address to_email cc bcc channel channel_id chat_id
    phone phone_number number webhook webhook_url url endpoint address user_id username
    conversation_id thread_id room room_id""".split())


def flags_evidence(facts, category, found, tool=None):
    """Set flags as {flag: evidence text}; `tool` is the definition, for the texts facts leave out."""
    flags = {}
    text = facts.description
    text_words = facts.words
    tokens = facts.token_set
    names = facts.names

    poisoned = poisoning_evidence(facts, tool)
    if poisoned:
        flags["suspicious_instructions"] = poisoned
    hiding = hidden_in_name(facts.name, facts.title)
    if hiding:  # (what a name hides is said first: it is what a person approves and a policy pins)
        flags["suspicious_instructions"] = hiding

    secret = _secret_evidence(facts, category, tokens, names, text, text_words)
    if secret:
        flags["touches_secrets"] = secret

    local = _filesystem_evidence(facts, tokens, text, text_words)
    if local:
        flags["filesystem"] = local

    sends = (category in ("write", "execute", "financial") and not tokens.isdisjoint(_SEND_TOKENS)
             and tokens & _SEND_TOKENS)
    if sends and (not names or not names.isdisjoint(_DESTINATION_PROPERTIES)):
        destination = sorted(names & _DESTINATION_PROPERTIES)
        where = f" to `{destination[0]}`" if destination else ""
        flags["sends_data_out"] = f"`{sorted(sends)[0]}` sends caller-chosen content{where}"
    elif found and any("HTTP" in e[2] for e in found):
        flags["sends_data_out"] = "sends requests to a caller-chosen URL"
    elif not tokens.isdisjoint(_EXPORTING_TOKENS) and names & _CALLER_DESTINATIONS:
        # "Export all notes to a URL": the content goes wherever the caller points it.
        verb = sorted(tokens & _EXPORTING_TOKENS)[0]
        flags["sends_data_out"] = f"`{verb}` to a caller-chosen `{sorted(names & _CALLER_DESTINATIONS)[0]}`"

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


# -- secrets: a tool that reads, returns, creates, stores or rotates them -------------------------
_CREDENTIAL_PAIRS = (("api", "key"), ("api", "keys"), ("access", "key"), ("access", "keys"), ("api", "token"),
                     ("api", "tokens"), ("auth", "token"), ("access", "token"), ("access", "tokens"), ("ssh", "key"),
                     ("ssh", "keys"), ("private", "key"), ("signing", "key"), ("authorization", "code"),
                     ("environment", "variables"), ("env", "vars"))
_CREDENTIAL_WORDS = frozenset("password passwd secret passphrase apikey credential credentials mnemonic".split())
_CREDENTIAL_PARTS = ("pass", "secret", "key", "credential", "mnemonic", "token")


def _is_credential(prop):
    """A property that carries a credential: `password`, `databasePassword`, `api_key`, `clientSecret`."""
    if not any(part in prop.key for part in _CREDENTIAL_PARTS):
        return False  # (most properties: spared splitting the name)
    words = name_tokens(prop.name)
    return (not _CREDENTIAL_WORDS.isdisjoint(words) or prop.lower in _SECRET_PROPERTIES
            or any(a in words and b in words for a, b in (("api", "key"), ("access", "key"), ("private", "key"))))
_ENV_TOKENS = frozenset("envvar envvars env".split())
# A description that says the tool hands over, makes or replaces a secret (not one that merely
# uses the caller's credentials to authenticate).
_SECRET_HANDLING = Phrase(
    r"\b(?:returns?|returning|creates?|generates?|rotates?|stores?|reveals?|retrieves?|lists?|shows?|gets?|sets?|"
    r"updates?|resets?|changes?|regenerates?|issues?|revokes?|exports?|reads?)\b[^.]{0,40}?\b(?:secrets?|passwords?|"
    r"credentials?|api[ _-]?keys?|access[ _-]?keys?|access[ _-]?tokens?|api[ _-]?tokens?|private[ _-]?keys?|"
    r"tokens?|passphrases?|mnemonic|seed phrase|connection strings?)\b",
    "return returns returning create creates generate generates rotate rotates store stores reveal reveals "
    "retrieve retrieves list lists show shows get gets set sets update updates reset resets change changes "
    "regenerate regenerates issue issues revoke revokes export exports read reads",
)
_SETTING_CATEGORIES = frozenset(("write", "destructive", "financial"))
# The words `_SECRET_HANDLING` needs one of: most descriptions hold none, and skip the regex.
_SECRET_NOUN_WORDS = frozenset("""secret secrets password passwords credential credentials key keys token tokens
    passphrase passphrases mnemonic seed connection""".split())


def _secret_evidence(facts, category, tokens, names, text, text_words):
    if not tokens.isdisjoint(_SECRET_TOKENS):
        return f"name speaks of secrets (`{sorted(tokens & _SECRET_TOKENS)[0]}`)"
    pair = next((p for p in _CREDENTIAL_PAIRS if p[0] in tokens and p[1] in tokens), None)
    if pair:
        return f"name speaks of credentials (`{' '.join(pair)}`)"
    if not tokens.isdisjoint(_ENV_TOKENS):
        return "environment variables hold secrets"
    if category in _SETTING_CATEGORIES and facts.properties:
        credential = next((p.name for p in facts.properties if p.depth <= 1 and _is_credential(p)), None)
        if credential:
            return f"sets a credential in `{credential}`"
    if not _SECRET_NOUN_WORDS.isdisjoint(text_words) and not _SECRET_HANDLING.triggers.isdisjoint(text_words):
        match = _SECRET_HANDLING.search(text, text_words)
        if match:
            return f"description: \"{match.group(0)}\""
    return None


# -- the local filesystem, by a path the caller chooses -------------------------------------------
_PATH_ENDINGS = frozenset("path paths dir directory folder file filename filepath files cwd".split())
_PATH_SUFFIXES = tuple(_PATH_ENDINGS)
# What a path property's own description says about where the path points.
_LOCAL_PATH = Phrase(r"\blocal(?:ly)?\b|\babsolute\b|\bfile ?system\b|\bon disk\b|\bdisk\b|\bmachine\b|"
                     r"\bdownloads?\b|\bhome directory\b|\bworking directory\b|\bworkspace\b|\bcwd\b",
                     "local locally absolute file filesystem disk machine download downloads home working workspace cwd")
_REMOTE_PATH = Phrase(r"\b(?:repository|repo|document root|website root|web root|site root|bucket|share|remote|url|"
                      r"endpoint|api|route|routing|domain|s3|blob|drive|vhost|container|cluster|prefix)\b",
                      "repository repo document website web site bucket share remote url endpoint api route routing "
                      "domain s3 blob drive vhost container cluster prefix")
_SAVED_TO_FILE = Phrase(r"\bsav(?:e|es|ed|ing)\b[^.]{0,40}?\b(?:to|into|as) (?:a |the )?(?:local )?(?:files?|disk|"
                        r"directory|folder|path)\b|\bfrom (?:a |the )?local (?:files?|path|directory|folder)\b",
                        "save saves saved saving from")


def _path_properties(facts):
    """Properties that take a path: `path`, `filePath`, `output_dir`, `watchPaths` (by the last word
    of their name, so `profile_name` is not a file)."""
    found = []
    for prop in facts.properties:
        if prop.depth <= 1 and prop.type in ("string", "", "array") and (
                prop.lower in _PATH_PROPERTIES or prop.key.endswith(_PATH_SUFFIXES)):
            words = name_tokens(prop.name)  # (only for the few whose name could end in a path word)
            if prop.lower in _PATH_PROPERTIES or (words and words[-1] in _PATH_ENDINGS):
                found.append(prop)
    return found


def _filesystem_evidence(facts, tokens, text, text_words):
    properties = _path_properties(facts) if facts.properties else ()
    remote_tool = not tokens.isdisjoint(_REMOTE_STORAGE)
    undecided = None
    for prop in properties:
        described = prop.description.lower()
        words = frozenset(find_words(described))
        if _LOCAL_PATH.search(described, words):
            return f"takes a local file path in `{prop.name}`"
        if undecided is None and not _REMOTE_PATH.search(described, words):
            undecided = prop
    if undecided is not None and not remote_tool and not _REMOTE_PATH.search(text[:300], text_words):
        return f"takes a file path in `{undecided.name}`"
    if not remote_tool:
        match = _SAVED_TO_FILE.search(text, text_words)
        if match:
            return f"description: \"{match.group(0)}\""
        if not tokens.isdisjoint(_FILE_TOKENS) and not text_words.isdisjoint(_LOCAL_WORDS):
            return "works on local files"
    return None


# A name or title that hides something (the taxonomy: control or invisible characters,
# bidirectional overrides, look-alike letters from another script). A name is what a person
# approves and what a policy pins: it must read as what it is.
_INVISIBLE = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
# Letters that show nothing (Hangul fillers, the braille blank) and, in a name, spaces other than
# the plain one (a no-break or ideographic space passes for `_` or nothing).
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Scripts whose letters pass for Latin ones (Cyrillic а, Greek ο, Armenian օ, Cherokee Ꭺ, ...).
_LOOK_ALIKE_SCRIPTS = frozenset(("CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC", "LISU", "OLD ITALIC"))
_LETTERS = re.compile(r"[^\W\d_]+")
# The letters of those scripts that look like Latin ones: a word made only of them reads as Latin.
_LATIN_LOOKING = frozenset("аАвВеЕкКмМнНоОрРсСтТуухХіІјЈѕЅԁԛԝүҮһӏαΑΒεΕΖΗιΙκΚΜνΝοΟρΡτΤυΥχΧօսհոց")


def hidden_in_name(name, title=""):
    """Evidence that a tool's name or title hides something, or None.

    Control, format (zero-width, bidi override, tag) and other invisible characters; letters of a
    script that passes for Latin mixed into a Latin word (Cyrillic `а` in `reаd_file`) or making a
    word beside Latin ones (`сору_file`); letters Latin only in disguise (fullwidth `ｇ`,
    mathematical `𝐫`). A name wholly in another script (`получить_данные`) hides nothing.
    """
    for text, what in ((name, "name"), (title, "title")):
        if not text or (text.isascii() and text.isprintable()):
            continue  # (nearly every tool: one test each)
        for c in text:
            kind = unicodedata.category(c)
            if kind in _INVISIBLE or c in _BLANK or (kind == "Zs" and c != " " and what == "name"):
                return f"{what} hides control/invisible/bidi characters"
    for text, what in ((name, "name"), (title, "title")):
        if text and not text.isascii() and look_alike(text):
            return f"{what} has look-alike letters from another script"
    return None


def look_alike(text):
    words = _LETTERS.findall(text)
    scripts = [{_script(c) for c in word} for word in words]
    latin = any("LATIN" in found for found in scripts)
    for word, found in zip(words, scripts):
        if "LATIN" in found and not found.isdisjoint(_LOOK_ALIKE_SCRIPTS):
            return True  # one word, two alphabets
        if latin and found <= _LOOK_ALIKE_SCRIPTS and _LATIN_LOOKING.issuperset(word):
            return True  # a word of Cyrillic (Greek, ...) letters beside Latin words
        if not word.isascii() and any(unicodedata.name(c, "").startswith(("FULLWIDTH", "MATHEMATICAL"))
                                      for c in word):
            return True
    return False


def _script(char):
    """The script of a letter: the first word of its Unicode name (LATIN for ASCII)."""
    if char.isascii():
        return "LATIN"
    name = unicodedata.name(char, "")
    if name.startswith(("OLD ITALIC", "FULLWIDTH LATIN", "MATHEMATICAL")):
        return "OLD ITALIC" if name.startswith("OLD ITALIC") else "LATIN"
    return name.split(" ", 1)[0]
