"""The five flags of the taxonomy, each with the evidence that set it."""

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
    return flags
