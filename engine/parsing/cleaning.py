"""Text clean-up before reading: thinking blocks, refusals, markdown, and where the final answer sits.

Offsets matter: refusal sentences are blanked with spaces rather than cut, so every span the
readers report stays a substring of `ParseResult.answer_text`.
"""

from __future__ import annotations

import re


def fold(text: str) -> str:
    """`text` in lower case for literal checks that a word occurs before a case-insensitive pattern is run
    over a long answer; "ſ" and "ı", which such a pattern takes for "s" and "i", folded likewise."""
    lowered = text.lower()
    return lowered if lowered.isascii() else lowered.replace("ſ", "s").replace("ı", "i")


def mentions_any(folded: str, words: tuple[str, ...]) -> bool:
    """Does the folded text hold any of `words` (a pattern needs one of them to match at all)?"""
    return any(word in folded for word in words)


# Closed thinking blocks of reasoning models: <think> (DeepSeek-R1, QwQ, Qwen3), <thinking> (Claude
# prompt style), <reasoning>, and Kimi-VL's ◁think▷ markers.
# Blocks are paired by hand (`_closed_blocks`): a lazy `<think>(.*?)</think>` rescans to the end of
# the text from every unclosed opening tag, quadratic in an answer of many "<think>".
_OPEN = re.compile(r"<(think|thinking|reasoning|thought)>|(◁)think▷", re.I)
_CLOSE = re.compile(r"</(think|thinking|reasoning|thought)\s*+>|(◁)/think▷", re.I)
_PREAMBLE = re.compile(r"^\s*+(?:\*\*|#++\s*+)?(?:thinking|thoughts?|thinking process|thought process|internal reasoning"
                       r"|思考过程|思考)(?:\*\*)?\s*+[:：]", re.I)
# Line-anchored with blanks of the line only: `^\s*` would run from every line start over all the
# blank lines below it (quadratic in an answer of many blank lines).
ANSWER_LINE = re.compile(r"^[ \t]*+(?:#++[ \t]*+)?(?:\*\*|__)?+[ \t]*+(?:final answer|answer|response|output|最终答案"
                         r"|答案|回答)\s*+(?:\*\*|__)?+\s*+[:：]", re.I | re.M)


def _tag(match: re.Match) -> str:
    return (match.group(1) or match.group(2)).lower()


def _closed_blocks(text: str) -> list[tuple[int, int, int, int]]:
    """(start, end, body start, body end) of each closed thinking block, leftmost first, never nested:
    an opening tag pairs with the next closing tag of the same name. Linear in the text."""
    if "</" not in text and "◁/" not in text:  # no closing tag: no block (and no scan of a long answer)
        return []
    if _OPEN.search(text) is None:  # closing tags alone ("</think>" * 10000): no block, no tag read
        return []
    closes: dict[str, list[re.Match]] = {}
    for match in _CLOSE.finditer(text):
        closes.setdefault(_tag(match), []).append(match)
    blocks: list[tuple[int, int, int, int]] = []
    position = 0
    cursor = {name: 0 for name in closes}
    for opening in _OPEN.finditer(text):
        name = _tag(opening)
        if opening.start() < position or name not in closes:
            continue
        found, index = None, cursor[name]
        ends = closes[name]
        while index < len(ends) and ends[index].start() < opening.end():
            index += 1
        cursor[name] = index
        if index < len(ends):
            found = ends[index]
        if found is None:
            continue
        blocks.append((opening.start(), found.end(), opening.end(), found.start()))
        position = found.end()
    return blocks


def split_thinking(text: str) -> tuple[str, str | None]:
    """Split a reasoning model's thinking from its answer: (answer, thinking or None).

    Handles closed blocks anywhere, a closing tag without its opening one (chat templates that put
    `<think>` in the prompt), an opening tag never closed (the answer is then empty), and a leading
    "Thinking:" preamble that ends at an "Answer:" line or, failing that, before the last paragraph.
    """
    thoughts: list[str] = []
    pieces, position = [], 0
    for start, end, body_start, body_end in _closed_blocks(text):
        thoughts.append(text[body_start:body_end].strip())
        pieces.append(text[position:start])
        position = end
    answer = "".join(pieces) + text[position:]
    close = _CLOSE.search(answer) if "</" in answer or "◁/" in answer else None
    if close and not _OPEN.search(answer[:close.start()]):
        thoughts.append(answer[:close.start()].strip())
        answer = answer[close.end():]
    opening = _OPEN.search(answer) if "<" in answer or "◁" in answer else None
    if opening:
        thoughts.append(answer[opening.end():].strip())
        answer = answer[:opening.start()]
    if not thoughts:
        head = _PREAMBLE.match(answer)
        if head:
            rest = answer[head.end():]
            marker = ANSWER_LINE.search(rest)
            if marker:
                thoughts.append(rest[:marker.start()].strip())
                answer = rest[marker.start():]
            else:
                cut = rest.rstrip().rfind("\n\n")
                if cut > 0:
                    thoughts.append(rest[:cut].strip())
                    answer = rest[cut:]
    thinking = "\n\n".join(t for t in thoughts if t) or None
    return answer.strip(), thinking


_REFUSALS = [re.compile(p, re.I) for p in (
    r"\bI(?:'m|’m| am)\s++(?:sorry|afraid)\b[^.!?\n]{0,200}?\b(?:can(?:'|’)?t|cannot|can not|unable|not able|won(?:'|’)t"
    r"|will not)\b",
    r"\b(?:I|we)\s*(?:can(?:'|’)?t|cannot|can not|am unable to|(?:'m|’m) unable to|am not able to|(?:'m|’m) not able to"
    r"|won(?:'|’)t|will not|must decline to|have to decline to)\s+(?:really\s+|reliably\s+|accurately\s+)?"
    r"(?:determine|identify|assess|tell|say|judge|help(?!\s+but)|assist|provide|make|analy[sz]e|see|view|access|comply"
    r"|classify|infer|evaluate|rate|answer|speculate|detect|read|recogni[sz]e|interpret|process|open|label)\b",
    r"\b(?:cannot|can(?:'|’)t|can not|unable to) be (?:determined|identified|assessed|inferred|judged)",
    r"\b(?:it is|it(?:'|’)s) (?:not possible|impossible) (?:for me )?to (?:determine|tell|identify|say|assess|judge)",
    r"\bno image (?:was|has been|is|seems to be|appears to be) (?:provided|attached|uploaded|shared|included)",
    r"\bI (?:don(?:'|’)t|do not) (?:see|have access to|have) (?:an?|any|the) (?:image|picture|photo)",
    r"\bunable to (?:determine|identify|assess|analy[sz]e|view|see|process)\b",
    r"(?:抱歉|对不起|很遗憾)",
    r"(?:无法|不能|没法|难以|不便)(?:准确)?(?:确定|判断|识别|辨别|回答|提供|帮助|协助|分析|看到|查看|评估|推断|判定)",
)]
# Every refusal pattern above needs one of these words: most answers skip the nine scans.
_REFUSAL_WORDS = ("sorry", "afraid", "can", "unable", "not able", "won", "will not", "decline", "possible", "no image",
                  "don", "do not", "抱歉", "对不起", "很遗憾", "无法", "不能", "没法", "难以", "不便")
# Only where a "but" ends matters (the refusal is blanked up to it), so no leading blanks to rescan.
_BUT = re.compile(r"\b(?:but|however|though|that said|nonetheless)\b[,:]?|但是|但|不过|然而", re.I)
_SENTENCE = re.compile(r"[^.!?。！？\n]+[.!?。！？]*\n?|\n")


def mask_refusals(text: str) -> tuple[str, bool]:
    """Blank out refusal sentences ("I can't determine ...") keeping offsets; (masked text, refused?).

    A refusal followed by "but ..." keeps the part after "but": "I can't be sure, but it looks sad"
    still answers. Returns whether any refusal sentence was seen.
    """
    if not mentions_any(fold(text), _REFUSAL_WORDS) or not any(p.search(text) for p in _REFUSALS):
        return text, False
    out: list[str] = []
    refused = False
    for match in _SENTENCE.finditer(text):
        sentence = match.group(0)
        hit = next((m for p in _REFUSALS if (m := p.search(sentence))), None)
        if hit is None:
            out.append(sentence)
            continue
        refused = True
        but = _BUT.search(sentence, hit.end())
        cut = but.end() if but else len(sentence)
        # Blank from the clause the refusal starts in ("Subject: ...; I can't read it, but ...").
        begin = max((sentence.rfind(mark, 0, hit.start()) + 1 for mark in ";:—–；："), default=0)
        out.append(sentence[:begin] + " " * (cut - begin) + sentence[cut:])
    return "".join(out), refused


_FINAL = re.compile(
    r"(?:^|\n)[ \t]*+(?:#++[ \t]*+)?+(?:(?:\*\*|__)[ \t]*+)?+(?:final answer|final emotion|final label|final classification|final verdict"
    r"|final prediction|final judgment|final judgement|my answer|answer|verdict|prediction|classification|conclusion"
    r"|最终答案|最终判断|答案|结论|回答)\s*+(?:\*\*|__)?+\s*+(?:[:：]|is\b|\*\*\s*+[:：])", re.I)
_CONCLUDE = re.compile(r"\b(?:therefore|thus|hence|in conclusion|in summary|to summari[sz]e|overall|all in all"
                       r"|so the answer is|taken together|putting (?:it|this) together)\b|综上|因此|总之|总的来说|所以",
                       re.I)

# Every marker `_FINAL` reads holds one of these.
_FINAL_WORDS = ("final", "answer", "verdict", "prediction", "classification", "conclusion", "答案", "最终判断", "结论",
                "回答")
_CONCLUDE_WORDS = ("therefore", "thus", "hence", "in conclusion", "in summary", "to summari", "overall", "all in all",
                   "so the answer is", "taken together", "putting", "综上", "因此", "总之", "总的来说", "所以")


def marked_matches(text: str, words, pattern: re.Pattern) -> list[re.Match]:
    """Every match of `pattern` in `text`, scanned for only when one of `words` (each match holds one) appears
    in the case-folded text: the literal check is what keeps long answers without any marker cheap."""
    return list(pattern.finditer(text)) if mentions_any(fold(text), words) else []


def final_region(text: str) -> tuple[int, int] | None:
    """(start, end) of the explicit final answer: the paragraph after the last "Final answer:" marker."""
    matches = marked_matches(text, _FINAL_WORDS, _FINAL)
    if not matches:
        return None
    start = matches[-1].end()
    body = text[start:]
    lead = len(body) - len(body.lstrip())
    stop = body.find("\n\n", lead)
    end = start + (stop if stop >= 0 else len(body))
    return (start, end) if text[start:end].strip() else None


def conclusion_region(text: str) -> tuple[int, int] | None:
    """(start, end) from the last concluding phrase ("Therefore", "Overall", "综上") to its paragraph end."""
    matches = marked_matches(text, _CONCLUDE_WORDS, _CONCLUDE)
    if not matches:
        return None
    start = matches[-1].start()
    stop = text.find("\n\n", start)
    return start, (stop if stop >= 0 else len(text))


_MARKDOWN_MARKS = "*_`#>"


def plain(text: str) -> str:
    """Text without markdown emphasis and outer punctuation, for short answers."""
    for mark in _MARKDOWN_MARKS:  # one by one: `str.replace` beats a pattern over a long answer
        text = text.replace(mark, "")
    return text.strip().strip(" .!。！\"'“”‘’")


def is_short_answer(text: str, max_words: int = 6) -> bool:
    """A bare answer ("Sadness.", "**Negative**", "悲伤"): one line of a few words."""
    stripped = plain(text)
    if not stripped or "\n" in stripped:
        return False
    if re.search(r"[\u4e00-\u9fff]", stripped):
        return len(stripped) <= 12
    return len(stripped.split()) <= max_words
