"""The built-in prompt strategies: what each sends, in how many calls, and which stage holds the answer.

Every strategy asks only for the configured dimensions and for the same final answer format (one
JSON object, see `engine.prompts.templates`); they differ in what comes before it. Each request puts
the image before the text, the order the vendors recommend.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, replace
from typing import Any

from engine.models.base import GenerateConfig, Message, ModelRequest, ModelResponse, TextPart
from engine.prompts.base import Call, StrategyContext, StrategyOptions, StrategyOutcome
from engine.prompts.exemplars import exemplar_answer
from engine.prompts.labels import label_order
from engine.prompts.templates import answer_schema, check_language, instructions, load_blocks, load_template, \
    templates_digest
from engine.registry import Registry


@dataclass(frozen=True)
class StrategyInfo:
    """A registered prompt strategy: its class and what the runner and the dashboard need to know of it."""

    name: str
    cls: Any
    aliases: tuple[str, ...] = ()
    description: str = ""
    uses_pool: bool = False  # draws exemplars from the training pool (never from the evaluated items)
    samples: bool = False  # sends several samples per item (n_samples calls)
    label_options: tuple[str, ...] = ()  # strategy config keys that change its prompt, shown in the run label


def _from_plugin(name: str, loaded: Any) -> StrategyInfo:
    return StrategyInfo(name, loaded, description=(loaded.__doc__ or "").strip().split("\n")[0])


STRATEGY_REGISTRY: Registry[StrategyInfo] = Registry("prompt strategy", "affectlens.strategies",
                                                     ("engine.prompts.strategies",), _from_plugin)


def register_strategy(name: str, *, aliases: tuple[str, ...] = (), **capabilities: Any):
    """Class decorator: register a prompt strategy under `name` with its capabilities (`StrategyInfo`)."""
    def wrap(cls: Any) -> Any:
        description = capabilities.pop("description", None) or (cls.__doc__ or "").strip().split("\n")[0]
        STRATEGY_REGISTRY.add(name, StrategyInfo(name, cls, tuple(aliases), description, **capabilities), cls,
                              aliases)
        return cls
    return wrap


def strategy_info(name: str) -> StrategyInfo:
    """The registered strategy `name` (or alias); unknown names raise with a did-you-mean."""
    return STRATEGY_REGISTRY.get(name)


def template_dir(context: StrategyContext) -> str | None:
    return context.options.get("template_dir")


class PromptStrategy:
    """Shared machinery: one request with the image and a filled template, one call, one answer."""

    name = ""
    version = "1"
    templates: tuple[str, ...] = ()
    #: ask for the vendor's structured-output mode: always (structured) or when `options.structured`
    always_structured = False
    #: whether `options.structured` applies (not where free text must come before the JSON)
    supports_structured = True

    def template_hash(self, options: StrategyOptions) -> str:
        """sha256 over this strategy's template files, its version and the options that change the text."""
        check_language(options)
        return templates_digest(self.templates, options, f"{self.name}:{self.version}", **self.text_options(options))

    def text_options(self, options: StrategyOptions) -> dict:
        """Strategy options that change the rendered text (part of the template hash)."""
        return {"structured": self.structured(options)}

    def structured(self, options: StrategyOptions) -> bool:
        return self.always_structured or (self.supports_structured and options.structured)

    def label_order(self, context: StrategyContext) -> list[str]:
        """The candidate labels in the order this item's prompt presents them."""
        return label_order(context)

    def config(self, context: StrategyContext) -> GenerateConfig:
        if self.structured(context.options):
            return replace(context.generate, json_schema=answer_schema(context))
        return context.generate

    def request(self, context: StrategyContext, parts: list, config: GenerateConfig | None = None) -> ModelRequest:
        """A request of one user message (plus the system prompt when one is set)."""
        messages = []
        if context.options.system_prompt:
            messages.append(Message.system(context.options.system_prompt))
        messages.append(Message.user(*parts))
        return ModelRequest(tuple(messages), config or self.config(context), context.task, context.item_key)

    def prompt_text(self, context: StrategyContext) -> str:
        check_language(context.options)
        template = load_template(self.templates[0], context.options.language, template_dir(context))
        return instructions(context).fill(template)

    def render(self, context: StrategyContext) -> list[ModelRequest]:
        """The request(s) this strategy sends first."""
        return [self.request(context, [context.image, self.prompt_text(context)])]

    async def run(self, context: StrategyContext, call: Call) -> StrategyOutcome:
        (request,) = self.render(context)
        return StrategyOutcome([await call("answer", request, 0)])


@register_strategy("zero-shot")
class ZeroShot(PromptStrategy):
    """The question and the answer format, nothing else."""

    name = "zero-shot"
    templates = ("zero-shot",)


@register_strategy("cot", aliases=("chain-of-thought",))
class ChainOfThought(PromptStrategy):
    """Numbered reasoning steps first, then the JSON answer as the last thing in the reply."""

    name = "cot"
    templates = ("cot",)
    supports_structured = False


@register_strategy("structured", aliases=("json",))
class Structured(PromptStrategy):
    """JSON only; `GenerateConfig.json_schema` set so vendors with a structured-output mode enforce it."""

    name = "structured"
    templates = ("structured",)
    always_structured = True


@register_strategy("scene", aliases=("scene-decomposition",))
class SceneDecomposition(PromptStrategy):
    """Labelled sections: global atmosphere, subject emotion, situational cues, implicit narrative,
    then "Answer:" and the JSON answer."""

    name = "scene"
    templates = ("scene",)
    supports_structured = False
    sections = ("global_atmosphere", "subject_emotion", "situational_cues", "implicit_narrative", "answer")


@register_strategy("few-shot", aliases=("fewshot",), uses_pool=True, label_options=("k_shot",))
class FewShot(PromptStrategy):
    """k exemplars, each its image then its gold answer in the asked format, then the query image."""

    name = "few-shot"
    templates = ("few-shot",)

    def text_options(self, options: StrategyOptions) -> dict:
        return {**super().text_options(options), "k_shot": options.k_shot}

    def render(self, context: StrategyContext) -> list[ModelRequest]:
        check_language(context.options)
        k = context.options.k_shot
        if k < 1:
            raise ValueError(f"few-shot needs k_shot >= 1 (got {k}); use zero-shot for no exemplars")
        if len(context.exemplars) < k:
            raise ValueError(f"few-shot for {context.item_key}: k_shot={k} but only {len(context.exemplars)} "
                             f"exemplar(s) were given; draw them with engine.prompts.select_exemplars")
        blocks = load_blocks("few-shot", context.options.language, template_dir(context))
        parts_text = instructions(context)
        parts: list = [parts_text.fill(blocks["intro"], k=k)]
        for i, (image, gold) in enumerate(context.exemplars[:k], start=1):
            answer = exemplar_answer(gold, context)
            if not answer:
                raise ValueError(f"few-shot exemplar {i} (image sha256 {image.sha256[:12]}) has no gold for any of "
                                 f"{', '.join(context.task.dimensions)}; draw exemplars with gold for them "
                                 f"(select_exemplars(..., require=[...]))")
            parts += [parts_text.fill(blocks["example"], i=i), image,
                      parts_text.fill(blocks["example_answer"], i=i, answer=json.dumps(answer, ensure_ascii=False))]
        parts += [parts_text.fill(blocks["query"]), context.image, parts_text.fill(blocks["final"])]
        return [self.request(context, parts)]


@register_strategy("self-consistency", aliases=("sc",), samples=True,
                   label_options=("n_samples", "sample_temperature", "sample_prompt"))
class SelfConsistency(PromptStrategy):
    """n samples of another strategy's prompt (chain-of-thought by default) at a sampling temperature;
    the runner parses each and votes (categorical) or averages (continuous) (Wang et al., 2023,
    "Self-Consistency Improves Chain of Thought Reasoning in Language Models", ICLR).

    Each sample's `GenerateConfig.seed` is the base seed + its index, so samples are distinct
    requests (distinct cache keys) and reproducible where the vendor honours a seed.
    """

    name = "self-consistency"

    def inner(self, options: StrategyOptions) -> PromptStrategy:
        name = options.get("sample_prompt")
        inner = get_strategy(name)
        if not isinstance(inner, PromptStrategy) or isinstance(inner, (SelfConsistency, DescribeThenJudge)):
            raise ValueError(f"self-consistency samples a one-call strategy; sample_prompt={name!r} "
                             f"is not one (use zero-shot, cot, structured, scene or few-shot)")
        return inner

    def template_hash(self, options: StrategyOptions) -> str:
        inner = self.inner(options)
        check_language(options)
        return templates_digest(inner.templates, options, f"{self.name}:{self.version}",
                                sample_prompt=inner.name, **inner.text_options(options))

    def render(self, context: StrategyContext) -> list[ModelRequest]:
        n = context.options.n_samples
        if n < 1:
            raise ValueError(f"self-consistency needs n_samples >= 1 (got {n})")
        (base,) = self.inner(context.options).render(context)
        seed = context.generate.seed if context.generate.seed is not None else context.options.seed
        return [replace(base, config=replace(base.config, temperature=context.options.sample_temperature,
                                             seed=seed + i)) for i in range(n)]

    async def run(self, context: StrategyContext, call: Call) -> StrategyOutcome:
        requests = self.render(context)
        responses = await asyncio.gather(*(call("answer", request, i) for i, request in enumerate(requests)))
        return StrategyOutcome(list(responses), "answer", "vote")


@register_strategy("describe-then-judge", aliases=("describe-judge",))
class DescribeThenJudge(PromptStrategy):
    """Stage "describe": an emotion-free caption of the image. Stage "judge": the caption alone, as
    text, judged in the answer format. Comparing it with zero-shot shows how much the answer depends
    on seeing the image rather than on what a description carries."""

    name = "describe-then-judge"
    templates = ("describe", "judge")

    def render(self, context: StrategyContext) -> list[ModelRequest]:
        check_language(context.options)
        text = load_template("describe", context.options.language, template_dir(context)).strip()
        # The caption is free text: no JSON schema on this stage.
        return [self.request(context, [context.image, text], context.generate)]

    def render_judge(self, context: StrategyContext, caption: str) -> ModelRequest:
        """The text-only judging request for a caption (no image part)."""
        template = load_template("judge", context.options.language, template_dir(context))
        text = instructions(context).fill(template, caption=caption.strip())
        return self.request(context, [TextPart(text)])

    async def run(self, context: StrategyContext, call: Call) -> StrategyOutcome:
        (describe,) = self.render(context)
        caption: ModelResponse = await call("describe", describe, 0)
        if caption.status != "ok" or not (caption.text or "").strip():
            return StrategyOutcome([caption], "describe")  # the failure is the outcome; nothing to judge
        judged = await call("judge", self.render_judge(context, caption.text or ""), 0)
        return StrategyOutcome([judged], "judge")


def strategy_names() -> list[str]:
    """Names of the built-in strategies and those installed plugins add (aliases not included)."""
    return STRATEGY_REGISTRY.names()


def get_strategy(name: str) -> PromptStrategy:
    """The strategy registered under `name` (or one of its aliases)."""
    if "+" in name:
        # BASE+PROBE (zero-shot+grayscale) or BASE+occlusion: the base strategy about a changed image.
        from engine.prompts.probing import wrap_strategy
        base, modifier = name.rsplit("+", 1)
        return wrap_strategy(get_strategy(base), modifier)
    return strategy_info(name).cls()
