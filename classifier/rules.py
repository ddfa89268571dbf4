"""Readable rules that implement the taxonomy, each firing with evidence a person understands.

Every rule returns `Evidence(category, weight, text)`. A weight of 0.75 or more is a decisive signal;
of the decisive categories the most severe wins, as the taxonomy says. Weaker signals decide only
when nothing decisive fired.
"""

import re
from typing import NamedTuple

from .features import Phrase, find_words, name_tokens, words
from .lexicon import (
    ACTION_PROPERTIES,
    ASSOCIATION_NOUNS,
    CJK_WORDS,
    CODE_PROPERTIES,
    DESCRIPTION_LEADS,
    HTTP_METHODS,
    MONEY_MOVING_VERBS,
    MONEY_NOUNS,
    NOUN_FOLLOWERS,
    SQL_PROPERTIES,
    STRONG_MONEY_VERBS_FOR_WEAK_NOUNS,
    VERBS,
    WEAK_MONEY_NOUNS,
)
from .taxonomy import SEVERITY, most_severe

DECISIVE = 0.75


class Evidence(NamedTuple):
    category: str
    weight: float
    text: str


class Verb(NamedTuple):
    word: str
    category: str
    position: int


def name_verbs(tokens):
    """The first verb of a name, and the strong verbs after it.

    An ambiguous verb is passed over when the next word shows it is a noun (`run_status`) or a
    strong verb follows (`order_get`, `payment_create`). After a reading verb, a later verb is a
    second action only when joined to it (`get_or_create`, `search_and_replace`); otherwise it
    names what is read (`retrieve_refund`, `get_purchase_order`).
    """
    primary, others = None, []
    joined = False
    for position, token in enumerate(tokens):
        if token in _CONJUNCTIONS:
            joined = True
            continue
        hit = VERBS.get(token)
        if hit is None:
            continue
        category, strong = hit
        if position and (tokens[position - 1] in _NOUN_MAKERS or position > 1 and tokens[position - 2] == "how"):
            continue  # `auto_complete`, `how_to_use`: not an action of the tool
        if primary is None:
            if not strong:
                following = tokens[position + 1] if position + 1 < len(tokens) else None
                if following in NOUN_FOLLOWERS:
                    continue
                if any(VERBS.get(t, ("", False))[1] for t in tokens[position + 1 :]):
                    continue
            primary = Verb(token, category, position)
        elif strong and (position + 1 == len(tokens) or tokens[position + 1] not in NOUN_FOLLOWERS):
            if primary.category != "read" or joined or not VERBS[primary.word][1]:
                others.append(Verb(token, category, position))
    return primary, others


_CONJUNCTIONS = frozenset(("and", "or", "then"))
# Words after which a verb is part of a noun: `auto_complete`, `how_to_use`, `easy_copy`.
_NOUN_MAKERS = frozenset(("auto", "how", "easy"))


def _verb_of_word(word):
    """A word of prose as a lexicon verb: `deletes` -> delete, `revoking` -> revoke (or None).

    Remembered per word (the vocabulary of descriptions is finite; the memory is bounded)."""
    try:
        return _VERB_OF_WORD[word]
    except KeyError:
        pass
    verb = _stem_verb(word)
    if len(_VERB_OF_WORD) < 100_000:
        _VERB_OF_WORD[word] = verb
    return verb


_VERB_OF_WORD = {}


def _stem_verb(word):
    if word in VERBS:
        return word, VERBS[word][0]
    candidates = []
    if word.endswith("s"):
        candidates += [word[:-1], word[:-2]]
    if word.endswith("ing") and len(word) > 5:
        stem = word[:-3]
        candidates += [stem, stem + "e", stem[:-1] if stem[-1:] == stem[-2:-1] else None]
    if word.endswith("ed") and len(word) > 4:
        candidates += [word[:-1], word[:-2]]
    for candidate in candidates:
        if candidate and candidate in VERBS:
            return candidate, VERBS[candidate][0]
    return None


_LEAD_FIRST_WORDS = frozenset(lead.split(" ", 1)[0] for lead in DESCRIPTION_LEADS)
_LEADS = re.compile(
    "(?:" + "|".join(re.escape(lead) for lead in sorted(DESCRIPTION_LEADS, key=len, reverse=True)) + r")[\s,:]*"
)


# "[AllVoiceLab Tool] Convert ...", "RPC: Enable ...", "method: window/show ...": a label before the verb.
_PREFIX = re.compile(r"(?:\[[^\]]{0,40}\]|[a-z][\w.-]{0,20}:(?!//)[^\s]*)\s*")


def description_verb(description, word_list=None):
    """The verb a description opens with, after stock openings such as "This tool allows you to".

    `word_list`, the description's words, spares splitting it again when nothing is cut off."""
    text = description[:160].lstrip(" \t\r\n#*>-(\"'`")
    if word_list and "a" <= text[:1] <= "z" and ":" not in text[:24] and text.partition(" ")[0] not in _LEAD_FIRST_WORDS:
        # (the text opens with the description's first word, and nothing below would cut it)
        if word_list[1:3] == ["this", "tool"] and len(" ".join(word_list[:3])) < 38:
            return None
        return _verb_of_word(word_list[0])
    if text[:1] == "[" or ":" in text[:24]:
        prefix = _PREFIX.match(text)
        if prefix is not None:
            text = text[prefix.end():]
    for _ in range(2):
        if text.partition(" ")[0] not in _LEAD_FIRST_WORDS:
            break  # (no stock opening starts with another word: spares the regex)
        lead = _LEADS.match(text)
        if lead is None:
            break
        text = text[lead.end():]
    head = words(text[:40])
    if not head or head[1:3] == ["this", "tool"]:
        return None  # "Run this tool at the start of every conversation": addressed to the model
    return _verb_of_word(head[0])


# Negations close before a destructive word ("does not delete", "without removing").
_NEGATED = re.compile(r"(?:\b(?:not|never|no|without|nothing|non)\b|n't)[\w\s-]{0,20}$")


def _unnegated(phrase, text, text_words):
    for match in phrase.finditer(text, text_words):
        if not _NEGATED.search(text[max(0, match.start() - 30) : match.start()]):
            return match
    return None


_DESTRUCTIVE_PHRASE = Phrase(
    r"permanently (?:delete|remove|destroy|erase|purge)\w*|irreversibl\w+|cannot be undone|"
    r"can't be undone|can not be undone|unrecoverabl\w+|not be recover\w+|"
    r"(?:data|content|contents|changes) (?:will be |is |are )?lost",
    "permanently irreversible irreversibly undone unrecoverable recover recovered recoverable recovery lost",
    anchors=('permanently ', 'irreversibl', 'cannot be undone', "can't be undone", 'can not be undone', 'unrecoverabl', 'not be recover', 'data ', 'content', 'changes '),
)
_RECOVERABLE_PHRASE = Phrase(
    r"\bmove[sd]? (?:\w+ ){0,4}to (?:the )?(?:trash|bin|recycle bin)|can be (?:recovered|restored|undone|re-added)|"
    r"\brecoverable\b|\bsoft[- ]delet\w*",
    "trash bin recovered restored undone recoverable soft re",
    anchors=('move', 'can be ', 'recoverable', 'soft'),
)
_OVERWRITE_PHRASE = Phrase(
    r"overwrit\w*|replac(?:e|es|ing) (?:the )?(?:entire|existing|whole|complete|full|all)|"
    r"completely replac\w*",
    "overwrite overwrites overwriting overwritten replace replaces replacing replaced",
    anchors=('overwrit', 'replac', 'completely replac'),
)
_READ_ONLY_PHRASE = Phrase(
    r"read[- ]only|only (?:select|read)|select (?:queries|statements) only|仅支持select|只读|"
    r"(?:only|just) (?:allows?|supports?|runs?|executes?) (?:select|read)|select quer(?:y|ies)|"
    r"select statements?\b(?! and)",
    "read select readonly",
    marks=("只读", "select"),
    anchors=('read', 'only ', 'select ', '仅支持select', '只读', 'just '),
)
_WRITE_SQL_PHRASE = Phrase(r"\binsert\b[^.]{0,40}\bupdate\b[^.]{0,40}\bdelete\b", "insert", anchors=("insert",))
_SQL_WORDS = re.compile(r"\bsql\b|\bselect\b|\bstatement|\bcypher\b|\bsparql\b")
_HTTP_REQUEST = Phrase(r"\bhttp (?:get |post |put |patch |delete )?requests?\b|\b(?:api|graphql) requests?\b|"
                       r"\bmake (?:an? )?(?:arbitrary )?requests?\b", "request requests",
                       anchors=("http ", "api ", "graphql ", "make "))
_FINANCIAL_PHRASE = Phrase(
    r"transfer (?:funds|money|tokens?|\w+ tokens|crypto|eth|sol|usdc)|"
    r"send (?:funds|money|tokens?|crypto|eth|sol|btc|usdc|payment)|"
    r"place (?:an? )?(?:new )?(?:market |limit |buy |sell )?(?:order|trade|bet)|"
    r"execute (?:an? )?(?:trade|swap|order|payment|transfer)|make (?:an? )?payment|"
    r"process (?:an? )?payment|charge (?:the |a )?(?:customer|card|user)|"
    r"(?:buy|sell|purchase) (?:\w+ )?(?:shares|stocks?|crypto|tokens?|coins?)|"
    r"swap (?:\w+ )?tokens?|withdraw (?:funds|money|tokens?)|transfer credits?\b|"
    r"\b(?:token|fund|money|crypto|wire) transfers?\b|take[- ]profit|stop[- ]loss",
    "transfer transfers send place execute make process charge buy sell purchase swap withdraw take stop",
    anchors=('transfer ', 'send ', 'place ', 'execute ', 'make ', 'process ', 'charge ', 'buy ', 'sell ', 'purchase ', 'swap ', 'withdraw ', 'token ', 'fund ', 'money ', 'crypto ', 'wire ', 'take', 'stop'),
)

_AMOUNT = frozenset("amount amount_cents amount_in amount_in_cents total_amount amountin value_usd "
                    "lamports amount_wei sats quantity qty".split())
_COUNTERPARTY = frozenset("currency recipient to to_address toaddress destination receiver payee "
                          "iban card card_number wallet wallet_address address beneficiary "
                          "destination_address recipient_address side symbol".split())
_PATH_PROPERTIES = frozenset("path file_path filepath filename file_name file dir directory "
                             "dirpath folder folder_path target_path output_path dest destination "
                             "source_path src dst".split())
_DRY_CALL = Phrase(r"without (?:creating|sending|submitting|broadcasting|executing|signing) (?:a |any |the )?"
                   r"(?:transactions?|it|changes)\b|\bdry[- ]run\b", "without dry", anchors=("without ", "dry"))
_STARTING_VERBS = frozenset("create start launch trigger submit new spawn".split())
_STARTED_RUNS = frozenset("run runs process processes build builds execution executions".split())
_COMMAND_NAMES = frozenset(("command", "cmd", "commands"))
_PATH_KEYS = frozenset("path filepath filename file targetpath outputpath".split())
_PRODUCING_VERBS = frozenset("generate convert download export render capture screenshot extract create "
                             "transcribe".split())
# Canonical keys (see Property.key) of inputs that say where a result is saved.
_OUTPUT_KEYS = frozenset("""outputpath outputdir outputdirectory outputfile outputfilepath outputdirectorypath
    outputfolder outputfilename savepath savedir savefolder savedirectory savefile saveto downloaddir
    downloadpath downloadsdir destpath destinationpath targetpath outfile outdir""".split())
_SAVES_PHRASE = Phrase(
    r"\bsav(?:e|es|ed|ing)\b[^.]{0,40}?\b(?:to|into|in|as)\b[^.]{0,30}?\b(?:files?|directory|folder|path|disk|"
    r"local(?:ly)?|desktop)\b|\bto (?:a |the )?(?:local (?:file|storage|disk)|specified (?:directory|folder|path))",
    "save saves saved saving local specified",
    anchors=('sav', 'to '),
)
# What `apply` or `run` turns into running code: migrations, infrastructure plans, manifests.
_APPLIED_CODE = frozenset("migration migrations terraform manifest manifests playbook changeset changesets "
                          "kubectl helm ansible".split())
# What `run` checks or reports on without changing it: a fixed audit, not code of the caller's.
_FIXED_CHECKS = frozenset("audit audits diagnostic diagnostics check checks report reports funnel funnels "
                          "insight insights retention segmentation lighthouse".split())
# Options that let a call replace or destroy what exists.
_FORCE_KEYS = frozenset("force overwrite forcerecreate overwriteexisting replaceexisting forceoverwrite "
                        "forcedelete".split())
_FIXED_REQUEST = re.compile(r"make (?:an? )?(?:get|post|put|patch|delete|http|api)? ?request to (?!an? |the |any )\S")
# Data a call can lose without loss: clearing a cache or a selection destroys nothing.
_DERIVED_NOUNS = frozenset("cache caches cached selection highlight highlights focus console breakpoint "
                           "breakpoints".split())
# `delete_cache_item`: entries of a key-value store are data, not a derived copy.
_STORED_ENTRIES = frozenset("item items entry entries key keys value values".split())
# Words that show an ambiguous money verb (`swap`, `trade`, `order`, `checkout`) is about money:
# `checkout_cart` pays, `git_checkout` switches a branch.
_MONEY_CONTEXT = frozenset("""token tokens coin coins crypto price prices market exchange currency usd fiat
    stock stocks share shares position positions limit spot futures margin asset assets pair payment
    invoice cart basket purchase sol eth btc usdc usdt wallet defi dex jupiter uniswap raydium""".split())
_BUILT_THINGS = frozenset("app apps package project image workspace target scheme docker container ios "
                          "android solution module".split())
_RUNNING_THINGS = frozenset("process processes query queries execution executions".split())
_TRANSFERRED_THINGS = frozenset("""issue issues repository repo repositories app apps application ownership owner
    project projects file files task tasks cycle ticket tickets conversation chat call domain domains
    document documents folder item items card cards board""".split())
_CONSOLE_NOUNS = frozenset("terminal shell console repl tty".split())
# Verbs that, on a blockchain, sign a transaction that moves value.
_CHAIN_VERBS = frozenset("""create issue send transfer approve claim delegate undelegate stake unstake mint
    bridge tokenize redeem execute place deploy burn wrap unwrap""".split())
_CHAIN_WORDS = frozenset("""blockchain onchain wallet crypto cryptocurrency coin coins nft nfts erc20
    erc721 erc1155 defi validator lamports wei gwei solana ethereum eth sol btc bitcoin usdc usdt
    starknet strk sui egld orai evm multiversx esdt mesdt cosmos aptos polygon matic bnb tron trx
    xrp algorand avax arbitrum token tokens""".split())
# What `create` makes on a chain that costs money (not a wallet or a key pair).
_CHAIN_OBJECTS = frozenset("token tokens nft nfts collection transaction transactions order coin esdt".split())
_CHAIN_PROPERTIES = frozenset("privatekey private_key mnemonic wallet wallet_address to_address toaddress "
                              "receiver recipient recipient_address".split())


# Chain words that mean a blockchain on their own; the rest ("token", "sol", "validator") need company.
_CHAIN_SURE = frozenset("""blockchain onchain crypto cryptocurrency nft nfts erc20 erc721 erc1155 defi lamports
    wei gwei solana ethereum bitcoin usdc usdt starknet strk egld multiversx esdt mesdt evm""".split())


def _on_chain(facts, tokens, names):
    """Money-moving blockchain context: two chain words, a sure one, or one with a wallet-like input."""
    seen = (tokens | facts.words) & _CHAIN_WORDS
    if "smart" in facts.words and "contract" in facts.words:
        return True
    return bool(len(seen) >= 2 or seen & _CHAIN_SURE or (seen and names & _CHAIN_PROPERTIES))


_FILE_NOUNS = frozenset("file files note notes document doc docs sheet content contents".split())

# Which verbs, with which everyday money noun, move money (`place_order`, `send_tokens`).
_WEAK_NOUN_VERBS = {
    "order": STRONG_MONEY_VERBS_FOR_WEAK_NOUNS | {"modify", "update"},
    "plan": frozenset("change update upgrade downgrade".split()),
    "token": frozenset("send transfer mint bridge claim".split()),
    "position": frozenset("open close".split()),
    "transaction": frozenset("send submit execute".split()),
}


def _singular(noun):
    return noun[:-1] if noun.endswith("s") and noun[:-1] in MONEY_NOUNS else noun


# Nouns a money word can qualify without money moving: `send_invoice_reminder`, `add_payment_recipient`.
_MONEY_QUALIFIED = frozenset("""reminder reminders recipient recipients method methods link links template
    templates note notes comment comments attachment attachments metadata category categories code codes
    setting settings webhook webhooks report reports status tag tags field fields label labels address
    addresses contact contacts shipment shipments tracking""".split())


def _money_evidence(verb, tokens):
    """Financial evidence from a moving verb with a money noun after it (`create_invoice`)."""
    if verb.word not in MONEY_MOVING_VERBS:
        return None
    last = len(tokens) - 1
    for position in range(verb.position + 1, last + 1):
        token = tokens[position]
        if token not in MONEY_NOUNS:
            continue
        if position < last and tokens[position + 1] in _MONEY_QUALIFIED:
            continue
        noun = _singular(token)
        if token in WEAK_MONEY_NOUNS or noun in _WEAK_NOUN_VERBS:
            allowed = _WEAK_NOUN_VERBS.get(noun, STRONG_MONEY_VERBS_FOR_WEAK_NOUNS)
            if verb.word not in allowed:
                continue
        return Evidence("financial", 0.9, f"name `{verb.word}` + `{token}`: moves or commits money")
    return None


# Reading verbs whose object makes them a change: `resolve_comment`, `select_tab`, `format_table`.
_SENSES = {
    "resolve": ("write", frozenset("comment comments thread threads issue issues incident incidents alert alerts "
                                   "ticket tickets conversation conversations conflict conflicts review".split()),
                "marks it resolved"),
    "select": ("write", frozenset("tab tabs tenant subscription page project workspace account profile model "
                                  "organization org region sidebar context environment".split()),
               "changes the session's current choice"),
    "format": ("write", frozenset("table tables cell cells paragraph paragraphs slide slides range sheet "
                                  "worksheet document chart shape shapes".split()),
               "changes a stored document's formatting"),
}
_ARITHMETIC = frozenset("number numbers integer integers sum digits tensors matrices vectors duration".split())
_BROWSER_TARGETS = frozenset("option options dropdown element elements checkbox".split())


_SPECIAL_VERBS = frozenset(("add", "remove", "transfer", *_SENSES))


def _verb_evidence(verb, tokens, where, weight, context=()):
    """Evidence for one verb of a name, with the taxonomy's special cases for it."""
    category = verb.category
    if category in ("read", "write", "execute") and verb.word not in _SPECIAL_VERBS:
        return Evidence(category, weight, f"{where} verb `{verb.word}` → {category}")  # (most verbs)
    text = f"{where} verb `{verb.word}` → {category}"
    if verb.word == "add" and _ARITHMETIC & set(context or tokens):
        return Evidence("read", weight, f"{where} `add` of numbers: a calculation; nothing is stored → read")
    sense = _SENSES.get(verb.word)
    if sense is not None:
        objects = set(tokens[verb.position + 1 :]).union(context)
        if verb.word == "select" and objects & _BROWSER_TARGETS:
            return Evidence("execute", weight, f"{where} `select` of a page's option: a browser interaction → execute")
        found = objects & sense[1]
        if found:
            return Evidence(sense[0], weight, f"{where} `{verb.word}` of a `{sorted(found)[0]}`: {sense[2]} → {sense[0]}")
    if verb.word == "remove" and ASSOCIATION_NOUNS & set(tokens) and (
            where == "" or not context or "from" in tokens or "from" in context or "between" in context):
        # `remove_tag_from_task`, "Remove a label from an issue": undone by adding it back. When the
        # description names no container (`remove_shared_label`: "Remove shared label"), the thing
        # itself goes.
        return Evidence("write", weight, f"{where} `remove` of an association (re-addable) → write")
    if category == "destructive" and not _DERIVED_NOUNS.isdisjoint(tokens[verb.position + 1 :]) \
            and _STORED_ENTRIES.isdisjoint(tokens[verb.position + 1 :]):
        return Evidence("write", weight, f"{where} `{verb.word}` of derived data (a cache, a selection) → write")
    if verb.word == "transfer":
        # Transfers move money unless the name says what else moves (`transfer_issue`, `transfer_app`).
        if _TRANSFERRED_THINGS & set(tokens):
            return Evidence("write", weight, f"{where} `transfer` of ownership or an item → write")
        return Evidence("financial", weight * 0.8, f"{where} `transfer` with no other object: moves value")
    if category == "financial" and not VERBS[verb.word][1] and not _MONEY_CONTEXT & set(tokens):
        return Evidence("write", weight * 0.8, f"{where} `{verb.word}` with no money in sight → write")
    return Evidence(category, weight, text)


def name_evidence(facts):
    primary, others = name_verbs(facts.tokens)
    found = []
    if primary is not None:
        context = (facts.word_list[:8] + facts.tokens if primary.word in _SENSES or primary.word == "add"
                   else facts.word_list[:12] if primary.word == "remove" else ())
        found.append(_verb_evidence(primary, facts.tokens, "name", 1.0, context))
        money = _money_evidence(primary, facts.tokens)
        if money:
            found.append(money)
    for verb in others:
        found.append(_verb_evidence(verb, facts.tokens, "name also has", 0.9, facts.word_list[:12]))
        money = _money_evidence(verb, facts.tokens)
        if money:
            found.append(money)
    return primary, found


# Words after which a verb of prose is an action of the tool ("Update or delete", "can execute",
# "Archive (delete)"), rather than a noun ("progress updates", "price changes").
_LIST_OPENERS = frozenset("and or then also can may will to".split())
_SENTENCE_END = re.compile(r"[.\n]")
_LIST_NEGATIONS = frozenset("not without never no nor".split())


def _listed_actions(text, primary):
    """`Update or delete workbooks`, `Archive (delete) a call`: the most severe action listed.

    A word counts as a listed action when it opens the sentence, follows a conjunction, a modal
    or another listed verb; never in the past participle ("updated"), as a gerund ("by adding")
    or after a negation ("without executing")."""
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0][:200]
    best = None
    previous_verb = False
    previous = ""
    memo = _VERB_OF_WORD
    for position, word in enumerate(find_words(sentence)):
        if word.endswith("ly") and (position < 3 or previous == "to"):
            continue  # "Automatically fix", "to autonomously execute"
        verb = memo.get(word, False)
        if verb is False:
            verb = _verb_of_word(word)
        if verb is None:
            previous_verb = False
            previous = word
            continue
        if (verb is not None and previous == "by" and word.endswith("ing") and verb[1] == "destructive"
                and verb[0] != "remove"):
            pass  # "Log out by revoking the token": the means is an action of the tool ("by removing
            # noise" mostly edits content, and is left out)
        elif verb is None or word.endswith(("ed", "ing")) and word not in VERBS:
            previous_verb = False
            previous = word
            continue
        listed = position == 0 or previous_verb or previous in _LIST_OPENERS or previous == "by"
        if listed and previous not in _LIST_NEGATIONS and VERBS[verb[0]][1] and verb[1] != "read":
            if best is None or SEVERITY[verb[1]] > SEVERITY[best[1]]:
                best = verb
        previous_verb = listed
        previous = word
    if best is None or (primary is not None and SEVERITY[best[1]] <= SEVERITY[primary.category]):
        return []
    word, category = best
    return [Evidence(category, 0.8, f"description lists the action `{word}` → {category}")]


def _joined_action(text):
    """"Get or create context", "Get the next task and mark it in progress": a second action
    joined to a reading opener by "and" or "or" within its first words."""
    for position in range(1, min(len(text) - 1, 8)):
        if text[position] in _CONJUNCTIONS:
            word = text[position + 1]
            hit = VERBS.get(word)
            if hit is not None and hit[1] and hit[0] in ("write", "execute", "destructive"):
                return [Evidence(hit[0], 0.8, f"description: \"{text[position]} {word}\" → {hit[0]}")]
            return []
    return []


_DESCRIPTION_TRIGGERS = frozenset().union(*(phrase.triggers for phrase in (
    _RECOVERABLE_PHRASE, _DESTRUCTIVE_PHRASE, _OVERWRITE_PHRASE, _FINANCIAL_PHRASE, _HTTP_REQUEST)))
assert not any(phrase.marks for phrase in (
    _RECOVERABLE_PHRASE, _DESTRUCTIVE_PHRASE, _OVERWRITE_PHRASE, _FINANCIAL_PHRASE, _HTTP_REQUEST))


def description_evidence(facts, primary):
    text = facts.description
    found = []
    if not text:
        return found
    verb = facts.opening
    weak_name = primary is None or primary.category == "write" or not VERBS[primary.word][1]
    if verb is not None:
        word, category = verb
        # Decides when the name's verb is missing or vague (`create_build`: "Trigger a new
        # build"); against a clear name verb it only corroborates or weakly disagrees.
        escalates = weak_name and (primary is None or SEVERITY[category] > SEVERITY[primary.category])
        weight = 0.8 if escalates else 0.6
        found.append(Evidence(category, weight, f"description opens with `{word}` → {category}"))
    elif primary is None and not text.isascii():
        for cjk, category in CJK_WORDS:
            if cjk in text:
                found.append(Evidence(category, 0.8, f"description says 「{cjk}」 → {category}"))
                break
    if weak_name and not (verb and verb[1] == "read" and VERBS[verb[0]][1]):
        found.extend(_listed_actions(text, primary))
    elif (verb is not None and verb[1] == "read" and (primary is None or primary.category == "read")
          and not _CONJUNCTIONS.isdisjoint(facts.word_list[1:8])):
        found.extend(_joined_action(facts.word_list))
    text_words = facts.words
    if _DESCRIPTION_TRIGGERS.isdisjoint(text_words):
        return found  # none of the phrases below can match
    match = _unnegated(_RECOVERABLE_PHRASE, text, text_words)
    if match:
        found.append(Evidence("write", 0.9, f"description: \"{match.group(0)}\": recoverable"))
    match = _unnegated(_DESTRUCTIVE_PHRASE, text, text_words)
    if match:
        found.append(Evidence("destructive", 0.9, f"description: \"{match.group(0)}\""))
    match = _unnegated(_OVERWRITE_PHRASE, text, text_words)
    if match:
        found.append(Evidence("destructive", 0.85,
                              f"description: \"{match.group(0)}\": old content is lost (overwrite rule)"))
    if primary is None or primary.category != "read":
        match = _FINANCIAL_PHRASE.search(text, text_words)
        if match:
            found.append(Evidence("financial", 0.85, f"description: \"{match.group(0)}\""))
    match = _HTTP_REQUEST.search(text, text_words)
    if match and (
        any(p.key in ("url", "endpoint", "uri") for p in facts.properties)
        or set(facts.tokens) & {"http", "request", "graphql", "post", "put", "patch", "get", "delete"}
    ):
        if match.group(0).startswith("http get"):
            found.append(Evidence("read", 0.8, "makes HTTP GET requests to a caller-chosen URL: reads"))
        else:
            found.append(Evidence("execute", 0.8, "makes arbitrary HTTP requests to a caller-chosen URL"))
    return found


def schema_evidence(facts, primary):
    found = []
    names = facts.names
    tokens = facts.token_set
    pword = primary.word if primary is not None else None
    # The action word of the tool: its name's verb, else the verb its description opens with.
    verb = pword if primary is not None else (facts.opening[0] if facts.opening else None)
    reading = primary is not None and primary.category == "read"
    if facts.properties:
        # `remove_from_whitelist(command)`, `core_help(command)`: a clear non-running verb names a command.
        named_command = (primary is not None and primary.category != "execute" and VERBS[pword][1]
                         and not (facts.opening and facts.opening[1] == "execute"))
        for prop in facts.properties:
            lowered = prop.lower
            if prop.enum and lowered in ACTION_PROPERTIES:
                found.extend(_enum_evidence(prop))
            if prop.type not in ("string", "") or prop.depth > 1:
                continue
            if lowered in SQL_PROPERTIES or (
                lowered in ("query", "q", "sql_statement") and _SQL_WORDS.search(prop.description.lower())
            ):
                found.append(Evidence("execute", 0.9, f"accepts free-form SQL in `{prop.name}`"))
            elif lowered in CODE_PROPERTIES and not prop.enum and not (named_command and lowered in _COMMAND_NAMES):
                found.append(Evidence("execute", 0.9, f"accepts free-form code or a command in `{prop.name}`"))
        if not reading and not names.isdisjoint(_AMOUNT) and not names.isdisjoint(_COUNTERPARTY):
            amount = sorted(names & _AMOUNT)[0]
            other = sorted(names & _COUNTERPARTY)[0]
            found.append(Evidence("financial", 0.8, f"takes an `{amount}` with a `{other}`: moves money"))
        if "side" in names:
            for prop in facts.properties:
                if prop.lower == "side" and {"buy", "sell"} <= {v.lower() for v in prop.enum}:
                    found.append(Evidence("financial", 0.9, "`side` enum buy/sell: places trades"))
    if verb is None:  # (the rules below that need no verb, in the same order)
        if not tokens.isdisjoint(_CONSOLE_NOUNS):
            noun = sorted(tokens & _CONSOLE_NOUNS)[0]
            found.append(Evidence("execute", 0.85, f"sends input to a `{noun}`: runs what it is given"))
        if facts.properties:
            _force_evidence(facts, found)
        if "stop" in tokens and ("running" in facts.words or not tokens.isdisjoint(_RUNNING_THINGS)):
            found.append(Evidence("destructive", 0.8, "stops running work (a process, a query): it cannot be resumed"))
        return found
    if verb in ("write", "overwrite") and (
        not tokens.isdisjoint(_FILE_NOUNS) or not names.isdisjoint(_PATH_PROPERTIES)
        or not facts.keys.isdisjoint(_PATH_KEYS)
    ):
        found.append(Evidence("destructive", 0.85, "writes a whole file by path: old content is lost (overwrite rule)"))
    if pword in _STARTING_VERBS and not _STARTED_RUNS.isdisjoint(facts.tokens[primary.position + 1 :]):
        run = sorted(set(facts.tokens[primary.position + 1 :]) & _STARTED_RUNS)[0]
        found.append(Evidence("execute", 0.8, f"`{pword}` a `{run}`: starts running code or a job"))
    if pword == "build" and not tokens.isdisjoint(_BUILT_THINGS):
        found.append(Evidence("execute", 0.85, "builds a project: runs its build scripts and compilers"))
    if pword == "stop" and not tokens.isdisjoint(_RUNNING_THINGS):
        found.append(Evidence("destructive", 0.8, "stops running work (a process, a query): it cannot be resumed"))
    if not tokens.isdisjoint(_CONSOLE_NOUNS) and (primary is None or primary.category == "write"):
        noun = sorted(tokens & _CONSOLE_NOUNS)[0]
        found.append(Evidence("execute", 0.85, f"sends input to a `{noun}`: runs what it is given"))
    if (verb in _CHAIN_VERBS and _on_chain(facts, tokens, names)
            and (verb not in ("create", "issue") or not tokens.isdisjoint(_CHAIN_OBJECTS))):
        found.append(Evidence("financial", 0.85, f"`{verb}` on a blockchain: signs a transaction that moves value"))
    if pword == "push" and "force" in names:
        found.append(Evidence("destructive", 0.85, "`force` option on a push: can rewrite history"))
    if verb in _APPLYING_VERBS and not (tokens.isdisjoint(_APPLIED_CODE) and facts.words.isdisjoint(_APPLIED_CODE)):
        found.append(Evidence("execute", 0.85, f"`{verb}` of migrations or infrastructure code: runs it"))
    if verb in _PRODUCING_VERBS and all(e.category != "write" for e in found):
        key = next((p.name for p in facts.properties if p.key in _OUTPUT_KEYS), None) if facts.properties else None
        if key is not None:
            found.append(Evidence("write", 0.8, f"saves its output to a caller-chosen path in `{key}`"))
            reading = False
        else:
            match = _SAVES_PHRASE.search(facts.description, facts.words)
            if match:
                found.append(Evidence("write", 0.8, f"description: \"{match.group(0)}\": saves its output"))
                reading = False
    if not reading and pword != "push" and facts.properties:
        _force_evidence(facts, found)
    if pword != "stop" and ("stop" in tokens or verb == "stop") and (
            "running" in facts.words or not tokens.isdisjoint(_RUNNING_THINGS)):
        found.append(Evidence("destructive", 0.8, "stops running work (a process, a query): it cannot be resumed"))
    return found


def _force_evidence(facts, found):
    for prop in facts.properties:
        if prop.key in _FORCE_KEYS and prop.type == "boolean":
            found.append(Evidence("destructive", 0.75, f"`{prop.name}` option: can replace or destroy what exists"))
            break


_APPLYING_VERBS = frozenset(("apply", "run", "execute", "complete", "install"))


def _enum_evidence(prop):
    values = [v for v in prop.enum if v]
    methods = {v.upper() for v in values if v.upper() in HTTP_METHODS}
    if methods and methods != {"GET"} and len(methods) == len(values):
        return [Evidence("execute", 0.85, f"`{prop.name}` takes HTTP methods {'/'.join(sorted(methods))}: arbitrary requests")]
    best = None
    for value in values:
        tokens = name_tokens(value)
        verb, others = name_verbs(tokens)
        for candidate in ([verb] if verb else []) + others:
            evidence = _verb_evidence(candidate, tokens, "", 0.9)
            if best is None or SEVERITY[evidence.category] > SEVERITY[best[0]]:
                best = (evidence.category, value)
            money = _money_evidence(candidate, tokens)
            if money:
                best = ("financial", value)
    if best is None:
        return []
    category, value = best
    weight = 0.9 if category != "read" else 0.6
    return [Evidence(category, weight, f"`{prop.name}` enum includes `{value}` → {category} (multi-action tool)")]


def annotation_evidence(facts):
    hints = facts.annotations
    found = []
    if hints.get("readOnlyHint") is True:
        found.append(Evidence("read", 0.5, "annotation readOnlyHint=true (author's hint)"))
    elif hints.get("destructiveHint") is True and hints.get("readOnlyHint") is False:
        found.append(Evidence("destructive", 0.5, "annotation destructiveHint=true (author's hint)"))
    elif hints.get("readOnlyHint") is False:
        found.append(Evidence("write", 0.4, "annotation readOnlyHint=false (author's hint)"))
    return found


def restriction_evidence(facts, found):
    """A query tool restricted to reads is read; one restricted to writes is destructive if it can delete."""
    tokens = facts.token_set
    sql_tool = "sql" in tokens or "query" in tokens or any(e.text.startswith("accepts free-form SQL") for e in found)
    if not sql_tool:
        return found, []
    if (tokens & {"read", "select"} and tokens & {"query", "sql"}) or _READ_ONLY_PHRASE.search(facts.description, facts.words):
        kept = [e for e in found if not (e.category == "execute" and "SQL" in e.text)]
        return kept, [Evidence("read", 0.95, "restricted to read-only (SELECT) statements")]
    if _WRITE_SQL_PHRASE.search(facts.description, facts.words) or ("write" in tokens and tokens & {"query", "sql", "cypher"}):
        kept = [e for e in found if not (e.category == "execute" and "SQL" in e.text)]
        return kept, [Evidence("destructive", 0.9, "runs write statements that can DELETE")]
    return found, []


_OBJECT_GAP = frozenset(("and", "or", "then", "to", "and/or", "also", "can", "will", "not"))


def _noun_in_description(facts, primary, verb):
    """`post_comments` described as "Get post comments", `archive_list` as "Send a list to the
    archive": the name's verb is the object the description acts on.

    True when the description opens with a verb of another category (a clear reading verb, or any
    verb against a reading name) and names the name's verb word again a little later, not as a
    second action (after "and", "or", "to")."""
    if primary is None or verb is None or verb[1] == primary.category:
        return False
    if primary.category == "read":
        # Only where the name's first word is a verb that was passed over for it (`archive_list`).
        if verb[1] == "destructive" or primary.position == 0 or facts.tokens[0] not in VERBS:
            return False
    elif verb[1] != "read" or not VERBS[verb[0]][1] or primary.category == "destructive":
        return False
    word = primary.word
    text = facts.word_list[:16]
    for position in range(1, len(text)):
        token = text[position]
        if token == word or token == word + "s" or token == word + "es":
            return text[position - 1] not in _OBJECT_GAP
    return False


def category_evidence(facts):
    """(the name's first verb, every piece of category evidence)."""
    primary, found = name_evidence(facts)
    opening = facts.opening = description_verb(facts.description, facts.word_list)
    if opening is not None and opening[0] == "make" and _FIXED_REQUEST.match(facts.description):
        # "Make a POST request to capix/faceswap/result": one fixed endpoint; its effect is unsaid.
        opening = facts.opening = None
    if (opening is not None and primary is not None and opening[1] != primary.category
            and _noun_in_description(facts, primary, opening)):
        first = found[0]
        found[0] = Evidence(first.category, 0.5, f"name word `{primary.word}` is what the description reads, "
                                                  f"not an action")
        found = [found[0]] + [e for e in found[1:] if not e.text.startswith(f"name `{primary.word}`")]
        primary = None
    described = description_evidence(facts, primary)
    if described:
        found += described
        if not _RECOVERABLE_PHRASE.triggers.isdisjoint(facts.words) and any(
                e.text.endswith(": recoverable") for e in described):
            # "Moves the message to the trash": the verb says delete, the description says undoable.
            found = [e for e in found if not (e.category == "destructive" and "verb" in e.text)]
    schema = schema_evidence(facts, primary)
    if schema:
        found += schema
    match = (primary is not None and primary.category in ("execute", "financial")
             and _DRY_CALL.search(facts.description, facts.words))
    if match:
        found = [e for e in found if e.category not in ("execute", "financial")]
        found.append(Evidence("read", 0.85, f"description: \"{match.group(0)}\": a dry call that changes nothing"))
    if (primary is not None and primary.word in ("run", "execute", "perform")
            and (set(facts.tokens) | set(facts.word_list[:8])) & _FIXED_CHECKS
            and not any(e.text.startswith("accepts free-form") for e in schema)):
        checks = sorted((set(facts.tokens) | set(facts.word_list[:8])) & _FIXED_CHECKS)[0]
        found = [e for e in found if e.category != "execute"]
        found.append(Evidence("read", 0.85, f"`{primary.word}` of a fixed `{checks}`: reports, changes nothing"))
    if facts.annotations:
        found += annotation_evidence(facts)
    if "sql" in facts.token_set or "query" in facts.token_set or schema and any(
            e.text.startswith("accepts free-form SQL") for e in schema):
        found, extra = restriction_evidence(facts, found)
        found += extra
        if extra and extra[0].category == "read":
            # A read-only query tool reads even though its verb is "execute" or "run".
            found = [e for e in found if e.category != "execute"]
    return primary, found


def decide(found):
    """(category, score, conflict) from evidence: the most severe decisive category wins."""
    if len(found) < 2:
        return (found[0][0], found[0][1], 0.0) if found else (None, 0.0, 0.0)
    scores = {}
    for evidence in found:
        category, weight = evidence[0], evidence[1]
        if weight > scores.get(category, -1.0):
            scores[category] = weight
    decisive = [c for c, s in scores.items() if s >= DECISIVE]
    if decisive:
        category = most_severe(decisive)
    else:
        category = max(scores, key=lambda c: (scores[c], SEVERITY[c]))
    rivals = [s for c, s in scores.items() if c != category]
    return category, scores[category], max(rivals, default=0.0)
