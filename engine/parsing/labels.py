"""Reading labels: emotion and polarity words in free text, answer slots, ranked lists, distributions.

Every word found is mapped through `engine.taxonomy.normalize_label`, the one normaliser; this module
only decides *which* words in an answer are the answer. Its rules, in order (see `choose`):

1. negated mentions are dropped: "not happy", "does not convey fear", "neither X nor Y",
   "rather than X", "X is absent", "不悲伤", "并没有恐惧";
2. for a polarity taxonomy, explicit polarity words (positive / negative / neutral, 积极 / 消极)
   outrank emotion words mapped to their polarity;
3. labels of the taxonomy outrank known emotion words outside it; minor mentions ("a hint of fear",
   "some", "secondary") give way when a main one remains;
4. one distinct label -> ok; several -> the last one introduced as dominant ("primarily X",
   "the overall emotion is X", "best described as X") -> ok; otherwise the answer is ambiguous:
   status "partial" with the first-named label as value and every named word in `raw`;
5. only out-of-taxonomy emotion words -> "partial", value None, `raw` the word.
A comma, ">" or numbered list is a ranking, best first: its first element is the answer ("ok"; "partial"
with value None when that element is outside the label set).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

from engine.parsing.cleaning import fold
from engine.parsing.types import DimensionParse
from engine.taxonomy import _STRIP as LABEL_PUNCTUATION  # what the normaliser turns into blanks
from engine.taxonomy import TAXONOMIES, get_taxonomy, normalize_label

CJK = re.compile(r"[\u3400-\u9fff]")
# Variants too common in other senses to count in free text (still read in answer slots).
_FREE_TEXT_SKIP = {"good", "bad", "pos", "neg", "fun", "mad", "gross", "mean", "无"}
NONE_WORDS = {"n/a", "na", "none", "null", "unknown", "unclear", "undetermined", "not sure", "uncertain",
              "cannot determine", "can't determine", "not applicable", "无法确定", "未知", "不确定", "无",
              "yes", "no", "ok", "okay", "sure", "true", "false", "是", "否"}  # not labels: nothing to read


@dataclass(frozen=True)
class Mention:
    label: str | None  # normalised in the target taxonomy; None when outside it
    raw: str
    start: int
    end: int
    negated: bool
    explicit: bool  # a polarity word itself, not an emotion mapped to its polarity
    minor: bool
    dominant: bool


@lru_cache(maxsize=None)
def _vocabulary() -> tuple[re.Pattern, frozenset[str], frozenset[str]]:
    forms: set[str] = set()
    for tax in TAXONOMIES.values():
        for label in tax.labels:
            forms.update(v.lower() for v in label.variants)
    polarity_words = frozenset(v.lower() for label in TAXONOMIES["polarity3"].labels for v in label.variants)
    sentiment_words = frozenset(v.lower() for label in TAXONOMIES["polarity2"].labels for v in label.variants)
    latin = sorted((f for f in forms if not CJK.search(f) and f not in _FREE_TEXT_SKIP), key=len, reverse=True)
    cjk = sorted((f for f in forms if CJK.search(f) and f not in _FREE_TEXT_SKIP), key=len, reverse=True)
    latin_alt = _trie(latin)
    cjk_alt = _trie(cjk)
    # A one-character look-ahead first: most positions of a long answer fail on it at once instead of
    # trying each of the hundreds of words (it keeps punctuation-heavy 100 kB answers in milliseconds).
    latin_first = "".join(sorted({re.escape(f[0]) for f in latin}))
    cjk_first = "".join(sorted({re.escape(f[0]) for f in cjk}))
    pattern = re.compile(rf"(?=[{latin_first}])(?<![\w])(?:{latin_alt})(?![\w])|(?=[{cjk_first}])(?:{cjk_alt})", re.I)
    return pattern, polarity_words, sentiment_words


def _trie(words: list[str]) -> str:
    """One alternation of `words` as a tree of shared prefixes ("sad(?:ness|dened)?" rather than three
    words each tried from its first letter), a blank standing for any run of blanks or hyphens. At each
    branch the longer words are tried first, as in a longest-first alternation."""
    tree: dict = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict) -> str:
        branches = [(r"[\s\-]+" if char == " " else re.escape(char)) + emit(child)
                    for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(tree)


@lru_cache(maxsize=None)
def _folded_vocabulary() -> re.Pattern:
    """The vocabulary pattern without IGNORECASE, for text already folded to lower case (the words are
    lower case): each alternative then fails on its first character instead of comparing case-folded
    characters, three times faster over a long answer."""
    return re.compile(_vocabulary()[0].pattern)


_CLAUSE_END = re.compile(r"[.;:!?\n。；：！？()（）\[\]—–]|\bbut\b|\bhowever\b|\bwhereas\b|\bwhile\b|\balthough\b", re.I)
_NEGATOR = re.compile(
    r"\b(?:not|no|never|without|nor|neither|lacks?|lacking|absent|absence|devoid|hardly|barely|unlike|except"
    r"|nothing|nobody|free of|rather than|instead of|other than|far from|no longer|less of)\b|n['’]t\b", re.I)
_NOT_NEGATION = re.compile(r"\bnot (?:only|just|merely)\b|\bno doubt\b|\bnothing but\b", re.I)
_POST_NEGATION = re.compile(r"^\s*(?:is|are|was|were|seems?|appears?)\s+(?:not\b|absent|missing|unlikely|ruled out)"
                            r"|^\s*(?:isn['’]t|aren['’]t|wasn['’]t|doesn['’]t)\b|^\s*(?:can be |is )?ruled out", re.I)
# Chinese negators, minus the words that only start with one: 无比 (incomparably), 非常 (very), 不仅 (not only)...
_CJK_NEGATOR = re.compile(r"并没有|没有|并非|不是|毫无|缺乏|并不|没|无(?!比|限|尽|数|论|疑)|非(?!常)"
                          r"|不(?!仅|但|禁|断|得不|时|少|同|错|停)")
_MINOR_BEFORE = re.compile(r"\b(?:hints?|touch|traces?|undertones?|tinge|bit|elements?|secondary|slight|subtle|minor"
                           r"|some|little|less|mild|faint|also|sprinkle|notes?)\s+(?:of\s+)?(?:\w+\s+)?$", re.I)
_MINOR_AFTER = re.compile(r"^\s*(?:\(?\s*secondary|as (?:a |the )?secondary|is secondary|to a lesser)", re.I)
_DOMINANT_BEFORE = re.compile(
    r"(?:\b(?:primar(?:il)?y|main(?:ly)?|dominant(?:ly)?|predominant(?:ly)?|overall|most (?:likely|prominent|probable"
    r"|evident|strongly|clearly|salient)|strongest|chiefly|principal|central|best (?:described|captured|characteri[sz]ed"
    r"|summari[sz]ed|fits?)(?: as| by)?|above all|closest to|answer is|lean(?:s|ing)? (?:toward|towards|to)"
    r"|(?:go|going|settle|settling) (?:with|on)|opt for|choose|pick)\b[^.;,\n]{0,25}"
    r"|\b(?:emotion|feeling|sentiment|mood|polarity|label)\b[^.;:\n]{0,30}\b(?:is|would be|=)\s+"
    r"(?:most likely |probably |likely |clearly |definitely )?|主要|最可能|最明显|最为明显)$", re.I)
_CONTEXT_SKIP = {
    "content": (re.compile(r"(?:\bthe|\bthis|\bits|\bimage|\bvisual|\bemotional|\boverall|\bof|\bin|\bsuch|\bmain)\s+$", re.I),
                re.compile(r"^\s+(?:of|in|is|shows|depicts|includes|creators?|warning)\b", re.I)),
    "wonder": (re.compile(r"\b(?:I|we|no|you|one might|might)\s+$", re.I), re.compile(r"^\s+(?:if|whether|why)\b", re.I)),
    "neutral": (None, re.compile(r"^[\s-]+(?:colou?rs?|tones?|background|palette|light(?:ing)?|shades?|gr[ae]ys?|hues?"
                                 r"|backdrop|setting|walls?|clothing|beige)\b", re.I)),
    "negative": (None, re.compile(r"^\s+space\b", re.I)),
    "positive": (None, re.compile(r"^\s+space\b", re.I)),
    "calm": (None, re.compile(r"^\s+(?:water|waters|sea|lake|surface)\b", re.I)),
    "生气": (re.compile(r"(?:充满|富有)$"), re.compile(r"^(?:勃勃|盎然)")),  # "full of life", not anger
}


def _covers(pattern: re.Pattern, between: str) -> bool:
    """Does a negation reach past `between` to the next word? Not past another emotion word ("not angry,
    he is surprised"), except in a coordination ("not happy or sad", "没有积极或消极")."""
    if not pattern.search(between):
        return True
    return bool(re.search(r"(?:\bor|\bnor|\band|或|和|与|、|及|也不)\s*$", between, re.I))


def _clause_before(text: str, start: int, limit: int = 60) -> str:
    window = text[max(0, start - limit):start]
    ends = list(_CLAUSE_END.finditer(window))
    return window[ends[-1].end():] if ends else window


MAX_MENTIONS = 300  # a degenerate answer ("sad sad sad ...") is read from its first words only


def mentions(text: str, taxonomy: str, offset: int = 0) -> list[Mention]:
    """Every emotion or polarity word in `text`, normalised to `taxonomy`, with negation and weight marks."""
    found = _mentions(text, taxonomy)
    if offset:
        return [Mention(m.label, m.raw, m.start + offset, m.end + offset, m.negated, m.explicit, m.minor, m.dominant)
                for m in found]
    return list(found)


@lru_cache(maxsize=256)
def _mentions(text: str, taxonomy: str) -> tuple[Mention, ...]:
    _, polarity_words, sentiment_words = _vocabulary()
    polarity_only = get_taxonomy(taxonomy).polarity_only
    return tuple(Mention(normalize_label(site.raw, taxonomy).label, site.raw, site.start, site.end, site.negated,
                         polarity_only and site.key in polarity_words, site.minor, site.dominant)
                 for site in _word_sites(text)
                 # "positive" is not an emotion: it says nothing about the emotion label
                 if polarity_only or site.key not in sentiment_words)


@dataclass(frozen=True)
class _Site:
    """An emotion or polarity word with the marks its context gives it, whatever the taxonomy."""

    raw: str
    key: str  # lower case, blanks and hyphens as one space
    start: int
    end: int
    negated: bool
    minor: bool
    dominant: bool


@lru_cache(maxsize=256)
def _word_sites(text: str) -> tuple[_Site, ...]:
    """The words of `text` `mentions` reads, read once for every taxonomy asked about the same text."""
    pattern = _vocabulary()[0]
    found: list[_Site] = []
    folded = fold(text)  # the same offsets unless lower-casing changed a length ("İ")
    scan = _folded_vocabulary().finditer(folded) if len(folded) == len(text) else pattern.finditer(text)
    for count, match in enumerate(scan):
        if count >= MAX_MENTIONS:
            break
        raw = text[match.start():match.end()]
        key = re.sub(r"[\s\-]+", " ", raw.lower())
        before, after = text[max(0, match.start() - 40):match.start()], text[match.end():match.end() + 40]
        skip = _CONTEXT_SKIP.get(key)
        if skip and ((skip[0] and skip[0].search(before)) or (skip[1] and skip[1].search(after))):
            continue
        clause = _clause_before(text, match.start())
        tail = " ".join(clause.split()[-6:])
        if CJK.search(raw):
            head = re.split(r"[，。,.；;！？!?\s]", text[max(0, match.start() - 12):match.start()])[-1]
            negators = list(_CJK_NEGATOR.finditer(head))
            negated = bool(negators) and _covers(pattern, head[negators[-1].end():])
        else:
            negators = list(_NEGATOR.finditer(tail))
            negated = bool(negators) and not _NOT_NEGATION.search(tail) and _covers(pattern, tail[negators[-1].end():])
        negated = negated or bool(_POST_NEGATION.search(after))
        found.append(_Site(
            raw, key, match.start(), match.end(), negated,
            minor=bool(_MINOR_BEFORE.search(clause) or _MINOR_AFTER.search(after)),
            dominant=bool(_DOMINANT_BEFORE.search(clause)) or bool(re.search(r"(?:主要|最)\S{0,4}$", before))))
    return tuple(found)


def choose(found: list[Mention], text: str, offset: int = 0) -> DimensionParse | None:
    """Pick the answer among mentions by the rules in this module's docstring; None if nothing usable."""
    live = [m for m in found if not m.negated]
    if any(m.explicit for m in live):
        live = [m for m in live if m.explicit]
    known = [m for m in live if m.label is not None]
    if not known:
        outside = [m for m in live if m.label is None]
        if outside:
            return DimensionParse(None, "partial", sentence_at(text, outside[0].start - offset), outside[0].raw)
        return None
    major = [m for m in known if not m.minor]
    known = major or known
    distinct = list(dict.fromkeys(m.label for m in known))
    if len(distinct) == 1:
        return DimensionParse(distinct[0], "ok", sentence_at(text, known[0].start - offset), known[0].raw)
    dominant = [m for m in known if m.dominant]
    if dominant:
        pick = dominant[-1]
        return DimensionParse(pick.label, "ok", sentence_at(text, pick.start - offset), pick.raw)
    first = known[0]
    raws = ", ".join(dict.fromkeys(m.raw.lower() for m in known))
    return DimensionParse(first.label, "partial", sentence_at(text, first.start - offset), raws)


def sentence_at(text: str, position: int, limit: int = 240) -> str:
    """The sentence (or line) of `text` around `position`, trimmed to `limit` characters."""
    position = max(0, min(position, len(text)))
    starts = [text.rfind(c, 0, position) for c in (".", "\n", "!", "?", "。", "！", "？")]
    start = max(starts) + 1
    ends = [e for e in (text.find(c, position) for c in (".", "\n", "!", "?", "。", "！", "？")) if e >= 0]
    end = min(ends) + 1 if ends else len(text)
    return text[start:end].strip()[:limit]


def read_free(text: str, taxonomy: str) -> DimensionParse | None:
    """A label from running text (rules 1-5)."""
    return choose(mentions(text, taxonomy), text)


# Separators start only where a run of blanks starts (the lookbehinds) and eat blanks possessively:
# `\s*,` tried at every position of a long blank run rescans the rest of the run each time (quadratic).
_LIST_SPLIT = re.compile(r"(?:^|(?<=\s))#?\d{1,2}\s*+[.)、:]\s++|(?:^|\n)[^\S\n]*+[-*•·]\s++")
_CHAIN_SPLIT = re.compile(r"(?<!\s)\s*+(?:>>?|→|≻|->|＞)\s*+")
_COMMA_SPLIT = re.compile(r"(?<![^\S\n])[^\S\n]*+(?:,|，|、|;|；|\n)\s*+")
_HEAD_CUT = re.compile(r":|：|\(|（|\s[-–—]\s|—|\d|\[")


def _element(raw: str, taxonomy: str) -> tuple[str | None, str, bool]:
    """(label in taxonomy or None, head words, known emotion word anywhere?) for one list element."""
    head = _HEAD_CUT.split(re.sub(r"[*_`]+", "", raw).strip(), maxsplit=1)[0].strip().strip(" .\"'“”")
    if not head:
        return None, raw.strip(), False
    match = label_match(head, taxonomy)
    if match is not None and match.ok:
        return match.label, head, True
    inner = [m for m in mentions(head, taxonomy) if not m.negated]
    if inner:
        return inner[0].label, inner[0].raw, True
    return None, head, bool(match is not None and match.via)




@lru_cache(maxsize=None)
def _longest_variant() -> int:
    return max(len(v) for tax in TAXONOMIES.values() for label in tax.labels for v in label.variants)


def label_match(text: str, taxonomy: str):
    """`normalize_label(text, taxonomy)`, or None when `text` has too many letters to be any label's variant.

    The normaliser drops the characters of `LABEL_PUNCTUATION` and at most two leading and two trailing
    filler words ("the", "emotion", "feeling": 30 characters), so a text with 30 other characters more
    than the longest variant matches none; this spares it the fuzzy search for near candidates, which on
    a long answer costs more than the whole parse."""
    if len(text) > 200:
        # The punctuation is one character class: a prefix with too many other characters settles it unread.
        limit = _longest_variant() + 30
        if len(LABEL_PUNCTUATION.sub("", text[:2048])) > limit or len(LABEL_PUNCTUATION.sub("", text)) > limit:
            return None
    return normalize_label(text, taxonomy)


#: A ranked list of labels is short; a longer text is not read as one (it would be split three ways on
#: every call, the largest cost in parsing a 100 kB answer).
MAX_LIST_CHARS = 4000


def read_list(text: str, taxonomy: str) -> list[tuple[str | None, str]] | None:
    """A ranked list of labels ("1. Sad 2. Fear", "Sad > Fear", "Sad, Fear, Anger"), best first, or None.

    It counts as a ranking when it has two or more elements and at least half are known emotion words.
    Unknown elements stay in place with label None (a first element outside the label set makes the
    answer's top choice unknown, as the published GPT-4V answers are scored).
    """
    body = text.strip()
    if len(body) > MAX_LIST_CHARS:  # not a list of labels: a long answer, read by the other rules
        return None
    lead, colon, after = body.partition(":")
    if colon and "\n" not in lead and after.strip() and not [m for m in mentions(lead, taxonomy) if m.label]:
        body = after.strip()  # "Emotions ranked: A > B" -> "A > B"
    for splitter in (_LIST_SPLIT, _CHAIN_SPLIT, _COMMA_SPLIT):
        parts = splitter.split(body)
        if splitter is _LIST_SPLIT:
            if len(splitter.findall(body)) < 2:
                continue
            parts = parts[1:]  # the text before the first marker is a preamble ("Top three: 1) ...")
        parts = [p for p in parts if p and p.strip(" .\n")]
        if len(parts) < 2:
            continue
        if splitter is _COMMA_SPLIT and any(len(p.split()) > 4 and not CJK.search(p) for p in parts):
            continue
        elements = [_element(p, taxonomy) for p in parts]
        known = [e for e in elements if e[2]]
        if len(known) * 2 >= len(elements):
            ranked: list[tuple[str | None, str]] = []
            seen: set[str] = set()
            for label, head, _ in elements:
                if label is not None and label in seen:
                    continue
                if label is not None:
                    seen.add(label)
                ranked.append((label, head))
            return ranked
    return None


_WORDLIKE = re.compile(r"[^\W\d_]+(?:[\s\-'’][^\W\d_]+)*")
_KEY_WORDS = {"emotion", "emotions", "polarity", "sentiment", "label", "answer", "final answer", "category", "情绪", "情感",
              "极性", "答案"}
_LEAD_IN = re.compile(r"^(?:(?:the|this|it|image|picture|photo|overall|main|dominant|primary|emotion|feeling|mood"
                      r"|sentiment|label|answer|i|would|say|think|is|conveys|evokes|shows|'d|would be)\s+)+", re.I)


def read_slot(text: str, taxonomy: str) -> DimensionParse | None:
    """A label from an answer slot (a JSON value, the text after "Emotion:", a one-line answer).

    Exact label first, then a ranked list (first element), then the free-text rules; a short slot that
    names nothing known is kept as `raw` with status "partial"; "N/A"/"unknown" is "failed".
    """
    # The markdown characters dropped one by one: `str.replace` beats a pattern over a long slot.
    stripped = text.replace("*", "").replace("_", "").replace("`", "").replace("#", "").strip().strip(" .!。！\"'“”")
    if not stripped:
        return None
    if stripped.lower() in NONE_WORDS:
        return DimensionParse(None, "failed", text.strip(), stripped)
    if stripped.rstrip(":： ").lower() in _KEY_WORDS:  # a heading with its value missing ("Emotion:")
        return None
    match = label_match(stripped, taxonomy)
    if match is not None and match.ok:
        return DimensionParse(match.label, "ok", text.strip(), stripped)
    ranked = read_list(stripped, taxonomy)
    if ranked:
        status = "ok" if ranked[0][0] is not None else "partial"
        return DimensionParse(ranked[0][0], status, text.strip(), ranked[0][1])
    found = read_free(stripped, taxonomy)
    if found is not None:
        return found
    word = _LEAD_IN.sub("", stripped).strip(" .:：")
    if word and len(word.split()) <= 3 and len(word) <= 30 and _WORDLIKE.fullmatch(word):
        return DimensionParse(None, "partial", text.strip(), word)
    return None


# Blanks are eaten possessively (a long blank run after a word is read once per word, not once per split),
# and a reversed pair starts only at the first digit of a number.
_PAIR = re.compile(r"(?<![A-Za-z])(?P<key>[A-Za-z\u4e00-\u9fff][A-Za-z\u4e00-\u9fff ]{0,24}?)(?:\s*+(?:\*\*|\"))?+"
                   r"(?:\s*+(?:[:=：]|\(|（|-|–)\s*+|\s++(?=\d+\.\d|\d+(?:\.\d+)?\s*[%％]))"  # "joy 0.7" needs a decimal
                   r"(?P<num>\d+(?:\.\d+)?)\s*+(?P<pct>%|％)?")
_PAIR_REVERSED = re.compile(r"(?<![\d.])(?P<num>\d+(?:\.\d+)?)\s*+(?P<pct>%|％)\s*+(?:of\s++)?(?P<key>[A-Za-z\u4e00-\u9fff]+)")


# Where a "key: number" pair can end: the last letter of a key, the blanks, "**" or quote after it, then one
# separator and its blanks, or blanks before a decimal or percentage, and the number (with its blanks and
# percent sign, as `_PAIR` reads them). "第1步" and "sad\n2. " are no pair.
_PAIR_CUE = re.compile(r"[A-Za-z\u4e00-\u9fff][\s*\"]*+(?:[：:=(（\-–]\s*+|(?<=\s)(?=\d+\.\d|\d+(?:\.\d+)?\s*[%％]))"
                       r"\d+(?:\.\d+)?\s*+[%％]?")
_DIGIT = re.compile(r"\d")
_MERGE_GAP = 256  # windows closer than this are scanned as one (a search call costs about as much)
_DENSE = 32  # one cue per this many characters or more: scanning the whole text is cheaper than windows


def _pair_matches(text: str) -> list[re.Match]:
    """`_PAIR.finditer(text)`, tried only in the few characters before each number a key can precede.

    A match is a key of at most 25 letters and blanks, then blanks and one separator, then the number, so
    it starts at most 24 characters before the key's last letter. Scanning those windows in order (close
    ones merged, each from where the previous match ended) finds the same matches as scanning the whole
    text, which costs a lazy 25-character attempt at every letter of a long answer."""
    if not _DIGIT.search(text):
        return []
    dense = len(text) // _DENSE  # more cues than this: one per fewer than _DENSE characters
    cues = [cue.span() for cue in islice(_PAIR_CUE.finditer(text), dense + 1)]  # dense: the rest uncounted
    if len(cues) > dense:
        return list(_PAIR.finditer(text))
    windows: list[list[int]] = []
    for start, stop in cues:
        if windows and start - 24 <= windows[-1][1] + _MERGE_GAP:
            windows[-1][1] = stop
        else:
            windows.append([max(0, start - 24), stop])
    found: list[re.Match] = []
    last_end = 0
    for start, stop in windows:
        for match in _PAIR.finditer(text, max(start, last_end), stop):
            found.append(match)
            last_end = match.end()
    return found


_NOT_LABEL_KEYS = {"valence", "arousal", "intensity", "confidence", "score", "rating", "probability", "level", "step",
                   "scale", "total", "sum", "certainty", "value", "polarity", "sentiment", "emotion", "label", "top",
                   "rank", "效价", "唤醒度", "强度", "置信度", "分数", "评分"}


def _pair_key(phrase: str, taxonomy: str) -> tuple[str | None, str] | None:
    """(label or None, key) for the words before a number: the last one to three words that name an emotion,
    else the last word when it could be a label; None when it is not one ("valence", "step")."""
    words = [phrase.strip()] if CJK.search(phrase) else phrase.split()
    for size in (1, 2, 3):
        key = " ".join(words[-size:])
        known = normalize_label(key, taxonomy)
        if known.ok or known.via:
            return known.label, key
    key = words[-1] if words else ""
    if not key or key.lower() in _NOT_LABEL_KEYS or len(words) > 1 and not CJK.search(key):
        return None
    return normalize_label(key, taxonomy).label, key


def distribution_pairs(text: str, taxonomy: str) -> list[tuple[str | None, str, float, bool]]:
    """(label or None, key, number, is_percent) for "joy: 0.6, sadness 40%"-style pairs naming emotions."""
    pairs = []
    read: dict[str, tuple[str | None, str] | None] = {}  # a key read once, however often it repeats
    for pattern in (_PAIR, _PAIR_REVERSED):
        if pattern is _PAIR:
            matches = _pair_matches(text)
        else:  # a reversed pair needs a percent sign: no scan of an answer without one
            matches = pattern.finditer(text) if "%" in text or "％" in text else ()
        for match in matches:
            phrase, num, pct = match.group("key", "num", "pct")
            if phrase not in read:
                read[phrase] = _pair_key(phrase, taxonomy)
            if read[phrase] is not None:
                label, key = read[phrase]
                pairs.append((label, key, float(num), bool(pct), match.start()))
        if len([p for p in pairs if p[0]]) >= 2:
            break
        pairs = []
    return [(label, key, num, pct) for label, key, num, pct, _ in sorted(pairs, key=lambda p: p[4])]
