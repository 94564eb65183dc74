"""Prompt strategies: small objects that decide what is sent to a model, in how many calls.

A strategy is a tiny async program. The runner gives it the item's image, the task and a `call`
function (which owns caching, retries, storage and cost); the strategy returns the responses whose
text holds the final answer (several for self-consistency, which the runner parses and votes).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

from engine.models.base import GenerateConfig, ImagePart, ModelRequest, ModelResponse, TaskSpec

# call(stage, request, sample_index) -> ModelResponse; stored as one `responses` row each
Call = Callable[[str, ModelRequest, int], Awaitable[ModelResponse]]


@dataclass(frozen=True)
class StrategyOptions:
    language: str = "en"  # en | zh
    system_prompt: str | None = None
    shuffle_labels: bool = False  # candidate order shuffled per item (position-bias measurement)
    seed: int = 0
    k_shot: int = 3
    n_samples: int = 5  # self-consistency
    sample_temperature: float = 0.7
    structured: bool = False  # ask the vendor's structured-output mode where it has one
    extra: dict = field(default_factory=dict)
    polarity_taxonomy: str | None = None  # polarity2 | polarity3; default: the task's if polarity, else polarity2
    template_dir: str | None = None  # a folder of <lang>/<name>.txt files overriding the packaged templates
    sample_prompt: str = "cot"  # self-consistency: the strategy whose prompt each sample uses

    def get(self, name: str) -> Any:
        """An option's value: the field when set away from its default, else `extra[name]`, else the default.

        Lets a config pass newer options through `extra` (`{"polarity_taxonomy": "polarity3"}`).
        """
        value = getattr(self, name)
        return value if value != _OPTION_DEFAULTS[name] else self.extra.get(name, value)


_OPTION_DEFAULTS = {f.name: f.default for f in fields(StrategyOptions)}  # `extra` has a factory, not a default


@dataclass
class StrategyContext:
    item_key: str  # "dataset/item_id"
    image: ImagePart
    task: TaskSpec
    generate: GenerateConfig
    options: StrategyOptions
    exemplars: list[tuple[ImagePart, dict[str, Any]]] = field(default_factory=list)  # few-shot: image + gold


@dataclass
class StrategyOutcome:
    final: list[ModelResponse]  # responses whose text holds the answer (n for self-consistency)
    final_stage: str = "answer"
    aggregate: str = "single"  # single | vote (categorical) / mean (continuous)


class Strategy(Protocol):
    name: str
    version: str

    def template_hash(self, options: StrategyOptions) -> str: ...

    def render(self, context: StrategyContext) -> list[ModelRequest]:
        """The first request(s) this strategy sends (for wire-format checks and dry runs)."""
        ...

    async def run(self, context: StrategyContext, call: Call) -> StrategyOutcome: ...
