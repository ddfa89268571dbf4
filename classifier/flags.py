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
    Phrase(r"<\s*/?\s*(?:important|system|hidden|sudo|admin)\s*>|<!--", "", marks=("<",)),
    Phrase(r"\bignore (?:all |any )?(?:the )?(?:previous|prior|above|earlier|preceding) (?:\w+ )?(?:instructions|prompts?|rules)\b|"
           r"\bdisregard (?:all |any )?(?:the )?(?:previous|prior|above|earlier) ", "ignore disregard"),
    Phrase(r"\b(?:do not|don't|never) (?:tell|mention|inform|notify|reveal|show|alert)\b[^.]{0,20}\buser\b|"
           r"\bwithout (?:telling|informing|notifying|alerting) the user\b", "user"),
    Phrase(r"(?:pass|include|send|put|add|provide) [^.]{0,40}(?:api[_ ]?keys?|passwords?|credentials?|"
           r"private keys?|ssh keys?|secrets?|tokens?|contents?) [^.]{0,30}\b(?:as|in|into) (?:the |a )?"
           r"['\"`]?(?:sidenote|side note|note|notes)\b", "sidenote side note notes"),
    Phrase(r"\b(?:secretly|covertly)\b|\bthis is (?:very )?important[^.]{0,30}\bor the (?:tool|system|application) will\b",
           "secretly covertly important"),
)
# Sensitive files that a tool may name for its own job (an SSH tool, a key manager) but that
# elsewhere mark a request for another program's secrets.
_SENSITIVE_FILES = Phrase(
    r"~/\.ssh|\bid_rsa\b|\.ssh/|/etc/passwd|/etc/shadow|\bmcp\.json\b|claude_desktop_config|"
    r"\.aws/credentials|\.npmrc\b|\.netrc\b", "",
    marks=(".ssh", "id_rsa", "/etc/", "mcp.json", "claude_desktop_config", ".aws", ".npmrc", ".netrc"),
)
_SENSITIVE_JOBS = frozenset("ssh key keys host hosts vm vmss machine credential credentials config configs "
                            "secret secrets known server servers".split())
_SUSPICIOUS_TRIGGERS = frozenset().union(*(p.triggers for p in _SUSPICIOUS))
_SUSPICIOUS_MARKS = tuple(mark for p in _SUSPICIOUS for mark in p.marks)
_SECRET_WORDS = Phrase(
    r"\b(?:secrets?|passwords?|passwd|credentials?|api[ _-]?keys?|apikeys?|private[ _-]?keys?|"
    r"access[ _-]?tokens?|auth(?:entication)?[ _-]?tokens?|bearer tokens?|refresh[ _-]?tokens?|"
    r"client[ _-]?secrets?|mnemonic|seed phrase|passphrase|key ?vault|keychain|ssh keys?|"
    r"signing keys?|oauth tokens?|personal access tokens?)\b",
    "secret secrets password passwords passwd credential credentials api apikey apikeys private "
    "access auth authentication bearer refresh client mnemonic seed passphrase key keyvault vault "
    "keychain ssh signing oauth personal",
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
    raw = " ".join((facts.name, facts.title, text))
    tokens = set(facts.tokens)
    names = {p.name.lower() for p in facts.properties}

    match = None
    if not _SUSPICIOUS_TRIGGERS.isdisjoint(facts.words) or any(m in text for m in _SUSPICIOUS_MARKS):
        match = next(filter(None, (p.search(text, facts.words) for p in _SUSPICIOUS)), None)
    if match is None and tokens.isdisjoint(_SENSITIVE_JOBS):
        match = _SENSITIVE_FILES.search(text, facts.words)
    if match:
        flags["suspicious_instructions"] = f"description addresses the model: \"{match.group(0).strip()}\""
    elif _HIDDEN_CHARS.search(raw):
        flags["suspicious_instructions"] = "description hides invisible characters"

    secret_prop = sorted(names & _SECRET_PROPERTIES)
    match = _SECRET_WORDS.search(text, facts.words)
    if tokens & _SECRET_TOKENS or ("api" in tokens and "key" in tokens):
        flags["touches_secrets"] = "name speaks of secrets or keys"
    elif secret_prop:
        flags["touches_secrets"] = f"takes a credential in `{secret_prop[0]}`"
    elif match:
        flags["touches_secrets"] = f"description mentions \"{match.group(0)}\""

    path_props = sorted(p.name for p in facts.properties if p.name.lower() in _PATH_PROPERTIES and p.depth <= 1)
    remote = tokens & _REMOTE_STORAGE
    if path_props and not remote:
        flags["filesystem"] = f"takes a file path in `{path_props[0]}`"
    elif tokens & _FILE_TOKENS and not remote and not facts.words.isdisjoint(_LOCAL_WORDS):
        flags["filesystem"] = "works on local files"

    sends = tokens & _SEND_TOKENS
    destination = sorted(names & _DESTINATION_PROPERTIES)
    if category in ("write", "execute", "financial") and sends and (destination or not names):
        where = f" to `{destination[0]}`" if destination else ""
        flags["sends_data_out"] = f"`{sorted(sends)[0]}` sends caller-chosen content{where}"
    elif any("HTTP" in e.text for e in found):
        flags["sends_data_out"] = "sends requests to a caller-chosen URL"

    hint = facts.annotations.get("openWorldHint")
    if hint is True:
        flags["open_world"] = "annotation openWorldHint=true (author's hint)"
    elif hint is False:
        pass
    elif "sends_data_out" in flags or not facts.words.isdisjoint(_REMOTE_WORDS):
        flags["open_world"] = "reaches a remote service"
    elif not (tokens & _LOCAL_TOKENS or "filesystem" in flags
                 or not facts.words.isdisjoint(_LOCAL_WORDS)):
        flags["open_world"] = "no sign it stays on this machine"
    return flags
