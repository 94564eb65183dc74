"""Prices of cloud models (USD per 1M input / output tokens) and the cost of one call.

The table holds list prices for standard (non-batch, non-cached) text and image input as published
on the vendors' pricing pages; prices change, so every price can be overridden per run (an
experiment's `prices:` block, or `options: {price: {input: ..., output: ...}}` on a model).
A model id matches an entry exactly or by its longest listed prefix, so dated snapshots
("gpt-4o-2024-08-06", "claude-sonnet-4-5-20250929") take their family's price. Unknown models
(local servers, new ids) cost None — unknown, not free — unless overridden.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PRICES_AS_OF = "2025-10"


@dataclass(frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float


PRICES: dict[str, Price] = {
    # OpenAI, https://openai.com/api/pricing
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "chatgpt-4o-latest": Price(5.00, 15.00),
    "gpt-4-turbo": Price(10.00, 30.00),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-5": Price(1.25, 10.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5-nano": Price(0.05, 0.40),
    "gpt-5.1": Price(1.25, 10.00),
    "o1": Price(15.00, 60.00),
    "o3": Price(2.00, 8.00),
    "o3-mini": Price(1.10, 4.40),
    "o4-mini": Price(1.10, 4.40),
    # Anthropic, https://www.anthropic.com/pricing
    "claude-3-haiku": Price(0.25, 1.25),
    "claude-3-opus": Price(15.00, 75.00),
    "claude-3-5-haiku": Price(0.80, 4.00),
    "claude-3-5-sonnet": Price(3.00, 15.00),
    "claude-3-7-sonnet": Price(3.00, 15.00),
    "claude-haiku-4-5": Price(1.00, 5.00),
    "claude-sonnet-4": Price(3.00, 15.00),
    "claude-opus-4": Price(15.00, 75.00),
    "claude-opus-4-5": Price(5.00, 25.00),
    # Google, https://ai.google.dev/gemini-api/docs/pricing (prompts up to 200k tokens)
    "gemini-1.5-flash": Price(0.075, 0.30),
    "gemini-1.5-pro": Price(1.25, 5.00),
    "gemini-2.0-flash": Price(0.10, 0.40),
    "gemini-2.0-flash-lite": Price(0.075, 0.30),
    "gemini-2.5-flash": Price(0.30, 2.50),
    "gemini-2.5-flash-lite": Price(0.10, 0.40),
    "gemini-2.5-pro": Price(1.25, 10.00),
}

PriceLike = Price | Mapping[str, float] | tuple[float, float] | list[float]


def as_price(value: PriceLike) -> Price:
    """A `Price` from a Price, an `{input: , output: }` mapping or an `(input, output)` pair (USD per 1M tokens)."""
    if isinstance(value, Price):
        return value
    if isinstance(value, Mapping):
        try:
            return Price(float(value["input"]), float(value["output"]))
        except KeyError as missing:
            raise ValueError(f"price {dict(value)!r} lacks {missing}: give both input and output "
                             "(USD per 1M tokens)") from None
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return Price(float(value[0]), float(value[1]))
    raise ValueError(f"price {value!r}: give {{input: USD per 1M input tokens, output: USD per 1M output tokens}}")


def price_for(model_id: str, overrides: Mapping[str, PriceLike] | None = None) -> Price | None:
    """The price of `model_id`: overrides first, then the table; exact id, else the longest matching prefix."""
    model_id = (model_id or "").strip()
    model_id = model_id.removeprefix("models/")  # Gemini reports "models/gemini-..." in some places
    for table in (overrides or {}, PRICES):
        if model_id in table:
            return as_price(table[model_id])
        prefixes = [key for key in table if model_id.startswith(key + "-") or model_id.startswith(key + "@")]
        if prefixes:
            return as_price(table[max(prefixes, key=len)])
    return None


def cost_usd(model_id: str, input_tokens: int | None, output_tokens: int | None,
             overrides: Mapping[str, PriceLike] | None = None) -> float | None:
    """Cost of one call: input_tokens × input price + output_tokens × output price, per 1M tokens.

    None when the model's price is unknown or no usage was reported.
    """
    price = price_for(model_id, overrides)
    if price is None or (input_tokens is None and output_tokens is None):
        return None
    return ((input_tokens or 0) * price.input_per_mtok + (output_tokens or 0) * price.output_per_mtok) / 1_000_000


def call_cost(spec: Any, response: Any, prices: Mapping[str, PriceLike] | None = None) -> float | None:
    """Cost of one `ModelResponse` of the model `spec`.

    Prices come from the model's own `options.price`, then the experiment's `prices` mapping, then
    the table; the provider's resolved model id is looked up first, then the configured id.
    """
    overrides: dict[str, PriceLike] = dict(prices or {})
    own = (getattr(spec, "options", None) or {}).get("price")
    configured = getattr(spec, "model", "") or getattr(spec, "name", "")
    resolved = getattr(response, "model_id_resolved", None)
    if own is not None:
        for model_id in (configured, resolved):
            if model_id:
                overrides[model_id] = as_price(own)
    for model_id in (resolved, configured):
        if model_id and price_for(model_id, overrides) is not None:
            return cost_usd(model_id, response.input_tokens, response.output_tokens, overrides)
    return None
