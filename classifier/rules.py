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
    LEARNED,
    LEDGER_NOUNS as _LEDGER_NOUNS,
    MEMBERSHIP_NOUNS,
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


def name_verbs(tokens, unlisted_lead=False):
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
        learned = LEARNED.get(token)
        if learned is not None and learned[1] == "lemma":
            continue  # an inflection in a name is a noun or an adjective: `tags`, `scraping_`, `encrypted_`
        if primary is None:
            if not strong and unlisted_lead:
                continue  # `reprioritize_sub_issue`: the name opens with its (unlisted) verb; `issue` is its object
            if not strong:
                following = tokens[position + 1] if position + 1 < len(tokens) else None
                if following in NOUN_FOLLOWERS:
                    continue
                if any(VERBS.get(t, ("", False))[1] for t in tokens[position + 1 :]):
                    continue
            primary = Verb(token, category, position)
        elif strong and (position + 1 == len(tokens) or tokens[position + 1] not in NOUN_FOLLOWERS):
            # A second action is joined to the first (`get_or_create`) or follows a verb; after a
            # noun it names the object (`create_payment_link`: a payment link).
            after_verb = tokens[position - 1] in VERBS
            if (primary.category != "read" or joined or not VERBS[primary.word][1]) and (joined or after_verb):
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


def reset_caches():
    """Forget what was remembered of words: the lexicon changed (classifier.lexicon.use_learned)."""
    _VERB_OF_WORD.clear()


def _stem_verb(word):
    """A word of prose as a listed verb. Of the learned verbs, prose reads only inflections
    (`wrote` -> write): a verb WordNet merely files near a listed one decides only in a name."""
    if word in VERBS:
        learned = LEARNED.get(word)
        if learned is None:
            return word, VERBS[word][0]
        if learned[1] == "lemma":
            return learned[0], VERBS[word][0]
        return None
    candidates = []
    if word.endswith("s"):
        candidates += [word[:-1], word[:-2]]
    if word.endswith("ing") and len(word) > 5:
        stem = word[:-3]
        candidates += [stem, stem + "e", stem[:-1] if stem[-1:] == stem[-2:-1] else None]
    if word.endswith("ed") and len(word) > 4:
        candidates += [word[:-1], word[:-2]]
    for candidate in candidates:
        if candidate and candidate in VERBS and candidate not in LEARNED:
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
    r"(?:data|content|contents|changes)\b[^.]{0,40}?\b(?:will be |is |are )?lost|"
    r"(?:is|are) (?:\w+ )?destructive\b|"
    r"(?:is|are|will be|gets?) (?:permanently )?(?:deleted|erased|discarded|wiped) along with\b",
    "permanently irreversible irreversibly undone unrecoverable recover recovered recoverable recovery lost "
    "destructive along",
    anchors=('permanently ', 'irreversibl', 'cannot be undone', "can't be undone", 'can not be undone', 'unrecoverabl',
             'not be recover', 'data', 'content', 'changes', 'is ', 'are ', 'will be ', 'get'),
)
# A description that lays the actions out as a list ("- Delete: deletes the setting ..."): each is one.
_BULLETED_ACTION = re.compile(r"(?:^|\n|\. )\s*[-*•]?\s*([a-z]+)\s*:")
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
_DESTINATIONS = frozenset("recipient to to_address toaddress destination receiver iban card card_number wallet "
                          "wallet_address beneficiary destination_address recipient_address".split())
# What a shop sells, priced but not paid: `create_product(price, currency)`, `create_discount`.
_CATALOG_NOUNS = frozenset("product products price prices discount discounts coupon coupons variant variants "
                           "sku skus catalog listing listings offer offers".split())
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
    invoice cart basket purchase sol eth btc usdc usdt wallet defi dex jupiter uniswap raydium credit credits
    balance funds money""".split())
_BUILT_THINGS = frozenset("app apps package project image workspace target scheme docker container ios website "
                          "application assets webapp frontend serverless lambda function functions site "
                          "android solution module".split())
_RUNNING_THINGS = frozenset("process processes query queries execution executions".split())
_TRANSFERRED_THINGS = frozenset("""issue issues repository repo repositories app apps application ownership owner
    project projects file files task tasks cycle ticket tickets conversation chat call domain domains
    document documents folder item items card cards board""".split())
_CONSOLE_NOUNS = frozenset("terminal shell console repl tty".split())
_CONSOLE_OUTPUT = frozenset("log logs output outputs messages errors history".split())  # what a console printed
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


_CREDENTIAL_TOKENS = frozenset("api auth access bearer refresh oauth session jwt".split())


def _on_chain(facts, tokens, names):
    """Money-moving blockchain context: two chain words, a sure one, or one with a wallet-like input."""
    seen = (tokens | facts.words) & _CHAIN_WORDS
    if not tokens.isdisjoint(_CREDENTIAL_TOKENS):
        seen -= {"token", "tokens"}  # an API or access token is a credential, not a coin
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
    "transaction": frozenset("send submit execute reverse".split()),
    "renewal": frozenset("enable create turn".split()),
}


def _singular(noun):
    return noun[:-1] if noun.endswith("s") and noun[:-1] in MONEY_NOUNS else noun


# Nouns a money word can qualify without money moving: `send_invoice_reminder`, `add_payment_recipient`.
_MONEY_QUALIFIED = frozenset("""reminder reminders recipient recipients method methods link links template
    provider providers gateway gateways processor processors integration integrations connection connections
    templates note notes comment comments attachment attachments metadata category categories code codes
    setting settings webhook webhooks report reports status tag tags field fields label labels address
    addresses contact contacts shipment shipments tracking""".split())


def _money_evidence(verb, tokens):
    """Financial evidence from a moving verb with a money noun after it (`create_invoice`), or
    before it when the verb ends the name (`checkouts-create`, `subscriptions-update`)."""
    if verb.word not in MONEY_MOVING_VERBS:
        return None
    last = len(tokens) - 1
    positions = range(verb.position + 1, last + 1) if verb.position < last else range(verb.position)
    for position in positions:
        token = tokens[position]
        if token not in MONEY_NOUNS:
            continue
        if position < last and tokens[position + 1] in _MONEY_QUALIFIED and not (
                tokens[position + 1] in ("link", "links") and _singular(token) in ("payment", "checkout")):
            continue  # `send_invoice_reminder`; but a payment link commits its payer
        if not _LEDGER_NOUNS.isdisjoint(tokens) and verb.word not in _PAYING_VERBS and _PAYING_NOUNS.isdisjoint(tokens):
            return None  # bookkeeping (see _bookkeeping_evidence)
        noun = _singular(token)
        if token in WEAK_MONEY_NOUNS or noun in _WEAK_NOUN_VERBS:
            allowed = _WEAK_NOUN_VERBS.get(noun, STRONG_MONEY_VERBS_FOR_WEAK_NOUNS)
            if verb.word not in allowed:
                continue
        return Evidence("financial", 0.9, f"name `{verb.word}` + `{token}`: moves or commits money")
    return None


# Verbs that move money even on a ledger's records: paying a bill, refunding a transaction.
_PAYING_VERBS = frozenset("pay refund charge transfer send payout withdraw reverse capture settle".split())
_PAYING_NOUNS = frozenset("payment payments transfer transfers refund refunds payout payouts charge charges".split())
# What recording money changes: nothing moves (the taxonomy's "bookkeeping is write").
_RECORDING_VERBS = frozenset("""create add insert update edit modify upsert split record import categorize group
    ungroup attach set save write log enter make post""".split())


def _bookkeeping_evidence(facts, primary):
    """`create_expense`, `update_transaction`, `upsert_budget`: a record of money in a ledger or
    budget, which moves none."""
    if primary is None or primary.word not in _RECORDING_VERBS:
        return None
    noun = sorted(facts.token_set & _LEDGER_NOUNS)
    if not noun or not facts.token_set.isdisjoint(_PAYING_VERBS) or not facts.token_set.isdisjoint(_PAYING_NOUNS):
        return None
    return Evidence("write", 0.85, f"`{primary.word}` of a `{noun[0]}` record: bookkeeping moves no money → write")


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
    learned = LEARNED.get(verb.word)
    if learned is not None:
        return _learned_verb_evidence(verb, learned, where, weight)
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
    if verb.word == "remove" and not MEMBERSHIP_NOUNS.isdisjoint(tokens):
        return Evidence("write", weight, f"{where} `remove` of a member (re-addable) → write")
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


def _learned_verb_evidence(verb, learned, where, weight):
    """A verb the hand-written lists do not name, read through what training learned of it: a
    WordNet hypernym that is a listed verb (a good guess), the kind of verb WordNet files it under,
    or the listed verb it is used like in the snapshot (weak guesses: low weight, never `read`
    unless WordNet says it only knows, perceives or is)."""
    lemma, how = learned
    category = verb.category
    if how.startswith("kind of"):
        return Evidence(category, weight * 0.7, f"{where} verb `{verb.word}` (WordNet: a {how}) → {category}")
    if how.startswith("used like"):
        return Evidence(category, weight * 0.6, f"{where} verb `{verb.word}` ({how} in the snapshot's tools) → "
                                                f"{category}: weak")
    if how.startswith("`"):  # a prefix on a listed verb: `rerun`
        return Evidence(category, weight * 0.8, f"{where} verb `{verb.word}` ({how}) → {category}")
    return Evidence(category, weight * 0.2, f"{where} verb `{verb.word}` (WordNet: a {how}, no listed verb) → "
                                            f"{category}: weak guess")


def _unlisted_lead(facts):
    """The name and the description open with one word no list names (`reprioritize_sub_issue`:
    "Reprioritize a sub-issue ..."): that word is the tool's action."""
    tokens, words = facts.tokens, facts.word_list
    if not tokens or not words or len(tokens[0]) < 4 or tokens[0] in VERBS or not tokens[0].isalpha():
        return None
    lead, first = tokens[0], words[0]
    if not (len(lead) >= 6 and lead.endswith(_VERB_ENDINGS)):
        return None  # nouns open descriptions too ("Properties details ..."); verb-forming endings do not lie
    return lead if first == lead or (first.startswith(lead) and len(first) - len(lead) <= 2) else None


_VERB_ENDINGS = ("ize", "ise", "ify", "ate")


def name_evidence(facts):
    lead = _unlisted_lead(facts)
    primary, others = name_verbs(facts.tokens, unlisted_lead=lead is not None)
    found = []
    if lead is not None and primary is None:
        # No known verb is no evidence of safety: an action, so at least a change, with low weight.
        found.append(Evidence("write", 0.5, f"name and description open with `{lead}`, an action no list names → "
                                            f"write (weak guess)"))
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


def _bulleted_actions(text, primary):
    """"Three types of updating are available: - Add: ... - Set: ... - Delete: ...": the most
    severe action a list of them names."""
    best = None
    for match in _BULLETED_ACTION.finditer(text[:2000]):
        verb = _verb_of_word(match.group(1))
        if verb is not None and VERBS[verb[0]][1] and (best is None or SEVERITY[verb[1]] > SEVERITY[best[1]]):
            best = verb
    if best is None or (primary is not None and SEVERITY[best[1]] <= SEVERITY[primary.category]):
        return []
    return [Evidence(best[1], 0.85, f"description lists the action `{best[0]}:` → {best[1]} (multi-action tool)")]


def _joined_action(text):
    """"Get or create context", "Get the next task and mark it in progress": a second action
    joined to a reading opener by "and" or "or" within its first words."""
    for position in range(1, min(len(text) - 1, 8)):
        if text[position] in _CONJUNCTIONS:
            word = text[position + 1]
            hit = VERBS.get(word) if word not in LEARNED else None
            if hit is not None and hit[1] and hit[0] in ("write", "execute", "destructive"):
                return [Evidence(hit[0], 0.8, f"description: \"{text[position]} {word}\" → {hit[0]}")]
            return []
    return []


# A reversible setting: a call that replaces one can put the old value back.
_SETTING_NOUNS = frozenset("""setting settings config configs configuration configurations parameter parameters
    param params option options preference preferences property properties mode modes status state lock
    flag flags toggle theme nameserver nameservers forwarding redirect redirects autoreply""".split())

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
    if ":" in text and (primary is None or primary.category in ("read", "write")):
        found.extend(_bulleted_actions(text, primary))
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
        kept = _KEEPS_OLD.search(text, text_words)
        if kept:
            found.append(Evidence("write", 0.8, f"description: \"{kept.group(0)}\": what it replaces is kept"))
        elif not facts.token_set.isdisjoint(_SETTING_NOUNS):
            setting = sorted(facts.token_set & _SETTING_NOUNS)[0]
            found.append(Evidence("write", 0.8, f"replaces a `{setting}`, which can be set back: nothing is lost"))
        elif (primary is None or primary.category != "execute") and not (
                primary is not None and primary.word in _BUILDING_VERBS or verb is not None and verb[0] in _BUILDING_VERBS):
            # (a build or a deploy overwrites its own output: that is what running it means)
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
                         and not (facts.opening and facts.opening[1] == "execute")
                         and tokens.isdisjoint(_SCHEDULED))  # a cron job's command runs later
        for prop in facts.properties:
            lowered = prop.lower
            if prop.enum and lowered in ACTION_PROPERTIES:
                found.extend(_enum_evidence(prop, facts, primary))
            if prop.type not in ("string", "") or prop.depth > 1:
                continue
            if lowered in SQL_PROPERTIES or (
                lowered in ("query", "q", "sql_statement") and _SQL_WORDS.search(prop.description.lower())
            ):
                found.append(Evidence("execute", 0.9, f"accepts free-form SQL in `{prop.name}`"))
            elif lowered in CODE_PROPERTIES and not prop.enum and not (named_command and lowered in _COMMAND_NAMES):
                found.append(Evidence("execute", 0.9, f"accepts free-form code or a command in `{prop.name}`"))
        if not reading and not names.isdisjoint(_AMOUNT) and not names.isdisjoint(_COUNTERPARTY) \
                and tokens.isdisjoint(_LEDGER_NOUNS) and tokens.isdisjoint(_CATALOG_NOUNS):
            amount = sorted(names & _AMOUNT)[0]
            other = sorted(names & _COUNTERPARTY)[0]
            # An amount sent somewhere moves money; an amount in a currency may only price or record it.
            weight = 0.8 if other in _DESTINATIONS else 0.6
            found.append(Evidence("financial", weight, f"takes an `{amount}` with a `{other}`: moves money"))
        if "side" in names:
            for prop in facts.properties:
                if prop.lower == "side" and {"buy", "sell"} <= {v.lower() for v in prop.enum}:
                    found.append(Evidence("financial", 0.9, "`side` enum buy/sell: places trades"))
    if verb is None:  # (the rules below that need no verb, in the same order)
        if not tokens.isdisjoint(_CONSOLE_NOUNS) and tokens.isdisjoint(_CONSOLE_OUTPUT):
            noun = sorted(tokens & _CONSOLE_NOUNS)[0]
            found.append(Evidence("execute", 0.85, f"sends input to a `{noun}`: runs what it is given"))
        if facts.properties:
            _force_evidence(facts, found)
        if "stop" in tokens and ("running" in facts.words or not tokens.isdisjoint(_RUNNING_THINGS)):
            found.append(Evidence("destructive", 0.8, "stops running work (a process, a query): it cannot be resumed"))
        return found
    if verb in ("write", "overwrite") and _overwrites_file(facts, verb, tokens, names):
        found.append(Evidence("destructive", 0.85, "writes a whole file by path: old content is lost (overwrite rule)"))
    if pword in _STARTING_VERBS and not _STARTED_RUNS.isdisjoint(facts.tokens[primary.position + 1 :]):
        run = sorted(set(facts.tokens[primary.position + 1 :]) & _STARTED_RUNS)[0]
        found.append(Evidence("execute", 0.8, f"`{pword}` a `{run}`: starts running code or a job"))
    elif primary is None and verb in _STARTING_VERBS and not _STARTED_RUNS.isdisjoint(facts.word_list[1:8]):
        run = sorted(set(facts.word_list[1:8]) & _STARTED_RUNS)[0]
        found.append(Evidence("execute", 0.8, f"description: `{verb}` a `{run}`: starts running code or a job"))
    if verb == "build" and not (tokens.isdisjoint(_BUILT_THINGS) and _BUILT_THINGS.isdisjoint(facts.word_list[:12])):
        found.append(Evidence("execute", 0.85, "builds a project: runs its build scripts and compilers"))
    if pword == "stop" and not tokens.isdisjoint(_RUNNING_THINGS):
        found.append(Evidence("destructive", 0.8, "stops running work (a process, a query): it cannot be resumed"))
    if not tokens.isdisjoint(_CONSOLE_NOUNS) and (primary is None or primary.category == "write") \
            and tokens.isdisjoint(_CONSOLE_OUTPUT):
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
    if not reading and pword != "push" and facts.properties and verb not in _APPLYING_VERBS:
        _force_evidence(facts, found)  # (`apply --force` still only runs what it is given: execute)
    if pword != "stop" and ("stop" in tokens or verb == "stop") and (
            "running" in facts.words or not tokens.isdisjoint(_RUNNING_THINGS)):
        found.append(Evidence("destructive", 0.8, "stops running work (a process, a query): it cannot be resumed"))
    return found


def _overwrites_file(facts, verb, tokens, names):
    """`write_file(path, content)` replaces a file; a tool that merely has "write" in its name
    (`generator_write_test`, `write_query`) or keeps what was there (a backup, an append) does not."""
    if _KEEPS_OLD.search(facts.description, facts.words):
        return False
    by_path = not names.isdisjoint(_PATH_PROPERTIES) or not facts.keys.isdisjoint(_PATH_KEYS)
    if verb == "overwrite":
        return True
    if not tokens.isdisjoint(("file", "files")) and (by_path or not facts.properties):
        return True
    return by_path and _OVERWRITE_PHRASE.search(facts.description, facts.words) is not None


_KEEPS_OLD = Phrase(
    r"\bbackups?\b|\.bak\b|\bversion(?:ed| history)\b|previous versions?|keeps? (?:a |the )?(?:history|copy)|"
    r"\bappend(?:s|ed|ing)?\b|only if (?:the |it )?(?:\w+ )?does not (?:already )?exist|"
    r"if (?:it |the file )?(?:doesn't|does not) (?:already )?exist|without overwriting|never overwrites?",
    "backup backups bak versioned version previous keep keeps append appends appended appending only if "
    "without never",
    anchors=("backup", ".bak", "version", "previous", "keep", "append", "only if ", "if ", "without overwriting",
             "never overwrite"),
)
_BUILDING_VERBS = frozenset("build rebuild compile deploy redeploy install bundle package publish".split())
_SCHEDULED = frozenset("cron cronjob cronjobs job jobs schedule scheduled task tasks hook hooks".split())


def _force_evidence(facts, found):
    for prop in facts.properties:
        if prop.key in _FORCE_KEYS and prop.type == "boolean":
            found.append(Evidence("destructive", 0.75, f"`{prop.name}` option: can replace or destroy what exists"))
            break


_APPLYING_VERBS = frozenset(("apply", "run", "execute", "complete", "install", "deploy"))
_REQUESTING = frozenset("request requests http https api rest restful fetch call curl graphql".split())
_PARTICIPLE = re.compile(r"(?:ed|ing)$")


def _enum_evidence(prop, facts, primary):
    """A property that selects the action (`action`, `operation`, ...) whose enum values are verbs:
    the tool can do each of them. Not when the values are event kinds, report types or statuses
    (`payment.succeeded`, `deleted`, `monthly_report`), nor field names."""
    values = [v for v in prop.enum if v]
    methods = {v.upper() for v in values if v.upper() in HTTP_METHODS}
    if methods and len(methods) == len(values):
        # The HTTP method of a request the tool itself sends, not one a monitor or webhook is set up with.
        sends = primary is None or primary.category in ("execute", "read") or not facts.token_set.isdisjoint(_REQUESTING)
        if methods != {"GET"} and sends:
            return [Evidence("execute", 0.85, f"`{prop.name}` takes HTTP methods {'/'.join(sorted(methods))}: "
                                              f"arbitrary requests")]
        return []
    parsed = []
    for value in values:
        tokens = name_tokens(value)
        verb, others = name_verbs(tokens)
        if verb is not None and verb.position == 0 and "." not in value and not _PARTICIPLE.search(tokens[0]):
            parsed.append((value, tokens, verb, others))
    if len(parsed) * 2 < len(values):
        return []  # mostly not verbs: kinds, types or fields
    best = None
    for value, tokens, verb, others in parsed:
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


# -- the taxonomy's rules on secrets, spending, running work and reading ----------------------------
_REPLACING_VERBS = frozenset("change reset regenerate rotate replace update edit set put modify".split())
_SECRET_NOUNS = frozenset("password passwords passwd secret secrets credential credentials passphrase apikey "
                          "apikeys".split())
_ENVIRONMENT_TOKENS = frozenset("env envvar envvars environment variables".split())
_QUEUES = frozenset("queue queues".split())
# Inputs that size a paid resource; the resources a cloud bills by the hour.
_SIZING_PARTS = ("sku", "vmsize", "sizegb", "capacity", "provisioned", "throughput", "instancecount", "instancegroup",
                 "instancetype", "nodecount", "vcore", "vcpu", "iops", "pricingtier", "computetier")
_BILLED_RESOURCES = frozenset("""vm vms machine machines vmss instance instances cluster clusters database databases db
    disk disks redis fileshare fileshares lustre amlfs fs server servers node nodes nodepool volume volumes
    droplet droplets warehouse gpu gpus namespace""".split())
_PROVISIONING_VERBS = frozenset("create provision deploy update resize scale upgrade launch add".split())
_BILLING_PHRASE = Phrase(r"\bbilling account\b|\bbilled (?:hourly|monthly|per)\b|\bincurs? (?:costs?|charges?)\b",
                         "billing billed incur incurs", anchors=("billing account", "billed ", "incur"))
_FREE_PHRASE = Phrase(r"\bfree (?:of charge|domain|tier|plan|trial)\b|\bfor free\b|\bat no (?:cost|charge)\b|\bno charge\b",
                      "free no", anchors=("free ", "for free", "at no ", "no charge"))
# A browser or device session: what a call does to its page runs the page's code.
_BROWSER_TOKENS = frozenset("browser page tab tabs mouse keyboard dialog element iframe dom playwright puppeteer "
                            "selenium webdriver screen".split())
_BROWSER_WORDS = frozenset("browser page tab element dom".split())
_BROWSER_ACTIONS = frozenset("""refresh reload upload move handle new open accept dismiss press type fill check uncheck
    drag focus hover go back forward""".split())
# A model's output, computed on request: nothing is stored.
_COMPUTED_OUTPUTS = frozenset("completion completions embedding embeddings prediction predictions transcription "
                              "translation summary".split())
_GUIDE_TOKENS = frozenset("help guidance guide guides instructions howto tutorial docs documentation bestpractices".split())
_GUIDE_PHRASE = Phrase(r"^(?:provides?|gives?|returns?|gets?|shows?) (?:\w+ ){0,3}?(?:instructions|guidance|guides?|"
                       r"help|documentation|best practices|recommendations|how to)\b",
                       "instructions guidance guide guides help documentation best recommendations how")
# Query languages that can only read (Cosmos DB's SQL API runs SELECT alone).
_READ_ONLY_LANGUAGES = frozenset("promql logql lucene jql soql cosmos cosmosdb".split())
_SQL_LIKE = Phrase(r"\bsql-like\b|\bsql like syntax\b", "sql", anchors=("sql",))


def _taxonomy_evidence(facts, primary, found):
    """Rules the taxonomy states outright, each from a real definition that misfired before."""
    tokens = facts.token_set
    names = facts.names
    word = primary.word if primary is not None else (facts.opening[0] if facts.opening else None)
    if word in _REPLACING_VERBS and not tokens.isdisjoint(_SECRET_NOUNS):
        noun = sorted(tokens & _SECRET_NOUNS)[0]
        found.append(Evidence("destructive", 0.85, f"`{word}` of a `{noun}`: the old value is gone for good "
                                                   f"(overwriting a secret)"))
    elif (word in _REPLACING_VERBS or word == "save") and not tokens.isdisjoint(_ENVIRONMENT_TOKENS):
        found.append(Evidence("destructive", 0.8, f"`{word}` of environment variables (often secrets): the old "
                                                  f"values are gone for good"))
    if word in ("clean", "clear", "empty", "flush") and not tokens.isdisjoint(_QUEUES):
        found.append(Evidence("destructive", 0.85, f"`{word}` of a queue: the work waiting in it is lost"))
    if word in _PROVISIONING_VERBS:
        billed = tokens & _BILLED_RESOURCES
        sized = next((p.name for p in facts.properties if any(part in p.key for part in _SIZING_PARTS)), None) \
            if facts.properties and billed else None
        if billed and sized:
            found.append(Evidence("financial", 0.8, f"`{word}` of a `{sorted(billed)[0]}` sized by `{sized}`: "
                                                    f"provisions a paid resource"))
        elif word in ("create", "provision") and _BILLING_PHRASE.search(facts.description, facts.words):
            found.append(Evidence("financial", 0.8, "provisions something billed to an account: commits spend"))
    if "free" in tokens or _FREE_PHRASE.search(facts.description, facts.words):
        if any(e.category == "financial" and e.weight < 0.95 for e in found):
            found = [e for e in found if e.category != "financial" or e.weight >= 0.95]
            found.append(Evidence("write", 0.8, "the definition says it is free: it commits no spend"))
    bookkeeping = _bookkeeping_evidence(facts, primary)
    if bookkeeping is not None:
        found = [e for e in found if e.category != "financial" or e.weight >= 0.95]
        found.append(bookkeeping)
    if (not tokens.isdisjoint(_BROWSER_TOKENS) or (not tokens.isdisjoint(_BROWSER_ACTIONS)
                                                   and not _BROWSER_WORDS.isdisjoint(facts.word_list[:12]))):
        action = tokens & _BROWSER_ACTIONS
        if action and all(e.category in ("read", "write") for e in found):
            found.append(Evidence("execute", 0.85, f"`{sorted(action)[0]}` in a browser: the page runs what it "
                                                   f"triggers → execute"))
    if primary is not None and primary.word == "create" and not tokens.isdisjoint(_COMPUTED_OUTPUTS):
        output = sorted(tokens & _COMPUTED_OUTPUTS)[0]
        found = [e for e in found if e.category != "write"]
        found.append(Evidence("read", 0.9, f"creates a model's `{output}` on request: computes, stores nothing → read"))
    guide = tokens & _GUIDE_TOKENS
    match = None if guide else _GUIDE_PHRASE.search(facts.description, facts.words)
    if guide or match:
        what = f"`{sorted(guide)[0]}`" if guide else f"\"{match.group(0)}\""
        found = [e for e in found if e.category == "read" or e.text.startswith("accepts free-form")]
        found.append(Evidence("read", 0.9, f"gives instructions ({what}); runs and changes nothing → read"))
    querying = (any(e.text.startswith("accepts free-form SQL") for e in found) or not tokens.isdisjoint(_QUERY_TOKENS)
                or word in ("execute", "run"))
    languages = (tokens | facts.words) & _READ_ONLY_LANGUAGES
    if querying and (languages or _SQL_LIKE.search(facts.description, facts.words)):
        language = sorted(languages)[0] if languages else "SQL-like"
        found = [e for e in found if e.category != "execute" or e.text.startswith("accepts free-form code")]
        found.append(Evidence("read", 0.9, f"queries in {language}, a read-only query language → read"))
    if (facts.opening is not None and facts.opening[0] in _TEXT_VERBS and (primary is None or primary.category == "read")
            and any(e.text.startswith("accepts free-form SQL") for e in found)):
        found = [e for e in found if not e.text.startswith("accepts free-form SQL")]
        found.append(Evidence("read", 0.85, f"`{facts.opening[0]}` of SQL given as text: it is not run → read"))
    if word in ("start", "stop") and not tokens.isdisjoint(_OBSERVING):
        found = [e for e in found if e.category != "write"]
        found.append(Evidence("read", 0.8, f"`{word}` of a `{sorted(tokens & _OBSERVING)[0]}`: observes, changes "
                                           f"nothing → read"))
    return found


_QUERY_TOKENS = frozenset("query queries sql".split())
# Verbs that treat their input as text: converting, checking or explaining SQL does not run it.
_TEXT_VERBS = frozenset("convert translate format parse validate explain lint analyze analyse".split())
# What starting or stopping only watches: a screen recording, a trace, a profile.
_OBSERVING = frozenset("recording screencast trace tracing profiling capture".split())


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
    found = _taxonomy_evidence(facts, primary, found)
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


HINT = 0.25  # evidence below this weight is a hint for the model (a guess), never the rules' verdict


def decide(found):
    """(category, score, conflict) from evidence: the most severe decisive category wins."""
    if len(found) < 2:
        return (found[0][0], found[0][1], 0.0) if found and found[0][1] >= HINT else (None, 0.0, 0.0)
    scores = {}
    for evidence in found:
        category, weight = evidence[0], evidence[1]
        if weight > scores.get(category, -1.0) and weight >= HINT:
            scores[category] = weight
    if not scores:
        return None, 0.0, 0.0
    decisive = [c for c, s in scores.items() if s >= DECISIVE]
    if decisive:
        category = most_severe(decisive)
    else:
        category = max(scores, key=lambda c: (scores[c], SEVERITY[c]))
    rivals = [s for c, s in scores.items() if c != category]
    return category, scores[category], max(rivals, default=0.0)
