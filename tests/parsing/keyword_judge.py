"""A real, deterministic judge model for tests: reads the judge prompt and answers from keyword cues.

It is a complete `ModelAdapter` (registered under the name "keyword-judge" by the tests that need it),
not a stand-in for a vendor: it parses the prompt it is sent, as a judge model would.
"""

from __future__ import annotations

import re

from engine.models.base import ErrorClass, ModelAdapter, ModelRequest, ModelResponse

CUES = {"tears": "sadness", "weeping": "sadness", "sobbing": "sadness", "grinning": "happiness",
        "beaming": "happiness", "trembling": "fear", "cowering": "fear", "scowling": "anger",
        "gagging": "disgust", "jaw dropped": "surprise", "giggling": "amusement", "breathtaking": "awe"}
POLARITY = {"sadness": "negative", "fear": "negative", "anger": "negative", "disgust": "negative",
            "happiness": "positive", "surprise": "positive", "amusement": "positive", "awe": "positive"}
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}


class KeywordJudge(ModelAdapter):
    name = "keyword-judge"
    local = True

    def __init__(self, spec):
        super().__init__(spec)
        self.prompts: list[str] = []

    async def generate(self, request: ModelRequest) -> ModelResponse:
        prompt = request.messages[-1].text
        self.prompts.append(prompt)
        if "fail" in self.spec.options:
            return ModelResponse.failure(ErrorClass.SERVER, "judge server unavailable (503)")
        answer = prompt.split("<<<\n", 1)[-1].rsplit("\n>>>", 1)[0].lower()
        labels = re.search(r"label set: (.*?)\.\n", prompt)
        reply = "NONE"
        if labels:
            allowed = [label.strip() for label in labels.group(1).split(",")]
            for cue, emotion in CUES.items():
                if cue in answer:
                    for candidate in (emotion, POLARITY.get(emotion)):
                        if candidate in allowed:
                            reply = candidate
                            break
                    break
        else:
            for word, number in NUMBER_WORDS.items():
                if re.search(rf"\b{word}\b", answer):
                    reply = str(number)
                    break
        return ModelResponse(text=reply, input_tokens=len(prompt.split()), output_tokens=1, latency_ms=0.1,
                             model_id_resolved="keyword-judge-1", raw_response={"reply": reply})
