"""Adversarial answer shapes for the parser's time bound (tests/parsing/test_time_bound.py, bench/bench_parse.py).

Each shape is what a regular expression with nested or adjacent repetition chokes on: long runs of
one markdown character (`#`, `*`, `-`, `=`, `_`, `>`), of whitespace, of brackets and quotes, of
markers the parser looks for ("Step 1:", "Emotion:", "Final answer:", "<think>"), each alone, with a
character after it that makes the match fail at the end, and repeated over many lines; plus long
prose and huge thinking blocks. `shapes(size)` gives (name, text) pairs of about `size` characters.
"""

from __future__ import annotations

# A unit repeated to fill the answer; each also appears with a failing tail and as many short lines.
UNITS = {
    "hash": "#", "star": "*", "dash": "-", "equals": "=", "underscore": "_", "gt": ">", "space": " ", "tab": "\t",
    "newline": "\n", "space-newline": " \n", "bold-space": "** ", "hash-space": "# ", "under-space": "__ ",
    "bullet": "- ", "bullet-star": "* ", "dot-bullet": "• ", "numbered": "1. ", "paren-num": "1) ",
    "open-bracket": "[", "open-brace": "{", "open-paren": "(", "nested": "[{(", "quote": '"', "backslash": "\\",
    "colon": ":", "comma": ",", "digits": "1", "decimal": "0.5 ", "fraction": "1/", "range": "1-", "percent": "5% ",
    "step": "Step 1: ", "step-bold": "**Step 1** ", "step-hash": "## Step 2 ", "cn-step": "第1步 ",
    "emotion-key": "Emotion: ", "valence-key": "Valence: ", "answer-key": "Final answer: ",
    "json-key": '{"emotion": ', "json-open": '{"a": [', "scene": "Global atmosphere: ", "think-open": "<think>",
    "think-close": "</think>", "kimi-think": "◁think▷", "the": "the ", "not": "not ", "sad": "sad ",
    "very-high": "very high ", "label-list": "sadness, ", "chain": "joy > ", "cn-sad": "悲伤", "cn-none": "无",
    "cjk-colon": "情绪：", "fence": "```", "fence-json": "```json\n", "dash-space": "- - ", "mixed-md": "#*_-=> \t",
    "hash-bold": "#**", "bold-under": "**__", "key-words": "the final overall predicted ",
}
# Closing pieces that make a near-match fail at its very end (where backtracking explodes).
TAILS = ("", "x", "!", ":", "\n", " Emotion", " 5")


def shapes(size: int = 100_000) -> list[tuple[str, str]]:
    """(name, answer text) pairs of about `size` characters each, every shape the parser must survive."""
    out: list[tuple[str, str]] = []
    for name, unit in UNITS.items():
        run = unit * max(1, size // len(unit))
        for tail in TAILS:
            out.append((f"{name}{'+' + repr(tail) if tail else ''}", run[: size - len(tail)] + tail))
        # many lines, each a run of 24-60 units and a tail: the "markdown line of 24 #".
        for width in (24, 60):
            line = unit * width + "x\n"
            out.append((f"{name}-lines{width}", (line * max(1, size // len(line)))[:size]))
    prose = ("The image shows a rainy street at dusk; a figure walks alone under a dark umbrella. The colours are "
             "muted and cold, which suggests sadness rather than calm. ")
    answer = "\n\nFinal answer: Emotion: sadness. Polarity: negative. Valence: 2.5. Arousal: 3. Confidence: 0.8"
    out += [
        ("prose", (prose * (size // len(prose) + 1))[: size - len(answer)] + answer),
        ("prose-one-line", (prose * (size // len(prose) + 1))[:size]),
        ("thinking-closed", "<think>" + (prose * (size // len(prose)))[: size - 200] + "</think>" + answer),
        ("thinking-unclosed", "<think>" + (prose * (size // len(prose)))[: size - 10]),
        ("thinking-close-only", (prose * (size // len(prose)))[: size - 200] + "</think>" + answer),
        ("thinking-preamble", "Thinking: " + (prose + "\n") * (size // (len(prose) + 1) - 1) + answer),
        ("nested-brackets", "[" * (size // 2) + "]" * (size // 2)),
        ("nested-json", '{"a": ' * (size // 6) + "1" + "}" * (size // 6)),
        ("json-unclosed-string", '{"emotion": "' + "a" * (size - 14)),
        ("json-many-keys", "{" + ", ".join(f'"k{i}": "sad"' for i in range(size // 14)) + "}"),
        ("steps-many", "".join(f"Step {i % 99 + 1}: the colours are dark.\n" for i in range(size // 32))),
        ("list-many", "".join(f"{i % 99 + 1}. the mood is sad\n" for i in range(size // 20))),
        ("kv-many", "".join(f"Emotion: sad, Valence: {i % 9 + 1}, Arousal: 5\n" for i in range(size // 40))),
        ("scene-many", "".join(f"**Global atmosphere:** dark\n**Subject emotion:** sad\n" for _ in range(size // 50))),
        ("whitespace-mixed", (" \t \n\n \t" * (size // 7))[:size] + "sad"),
        ("hash-then-header", "#" * (size - 20) + " Global atmosphere"),
        ("bold-then-step", "** " * (size // 3 - 5) + "Step 1"),
    ]
    return out
