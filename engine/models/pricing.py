"""Prices of cloud models (USD per 1M input / output tokens) and the cost of one call.

The table holds list prices for standard (non-batch, non-cached) text and image input as published
on the vendors' pricing pages; prices change, so every price can be overridden per run (an
experiment's `prices:` block, or `options: {price: {input: ..., output: ...}}` on a model).

Prompt caching and batches have their own rates, as the vendors publish them (2025-10):
- cached input (tokens read from the prompt cache): Anthropic 0.1x input; OpenAI 0.5x (gpt-4o, o1),
  0.25x (gpt-4.1, o3, o4-mini), 0.1x (gpt-5 family); Gemini 0.25x (implicit caching);
- cache writes: Anthropic 1.25x input (5-minute cache); the others do not charge writes;
- batch APIs: 0.5x of every rate above (OpenAI Batch, Anthropic Message Batches, Gemini batch mode;
  Anthropic documents that the batch discount and cache prices stack).
`cached_input`, `cache_write` and `batch` can be given in a price override too.
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
    cached_input_per_mtok: float | None = None  # None: cached reads cost the input price
    cache_write_per_mtok: float | None = None  # None: cache writes cost the input price
    batch_factor: float = 1.0  # multiplier on every rate for a batch-API call (0.5: half price)

    def cost(self, input_tokens: int | None, output_tokens: int | None, *, cached_input_tokens: int | None = None,
             cache_write_tokens: int | None = None, batch: bool = False) -> float:
        """USD for one call. `input_tokens` is the whole prompt; the cached and written parts of it are
        priced at their own rates, the rest at the input price; a batch call at `batch_factor`."""
        cached, written = cached_input_tokens or 0, cache_write_tokens or 0
        plain = max(0, (input_tokens or 0) - cached - written)
        usd = (plain * self.input_per_mtok + (output_tokens or 0) * self.output_per_mtok
               + cached * _or(self.cached_input_per_mtok, self.input_per_mtok)
               + written * _or(self.cache_write_per_mtok, self.input_per_mtok)) / 1_000_000
        return usd * (self.batch_factor if batch else 1.0)


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


# Cache-read multiplier, cache-write multiplier and batch factor by model family (longest prefix wins).
_FAMILY_RATES: dict[str, tuple[float, float, float]] = {
    "gpt-4o": (0.5, 1.0, 0.5), "chatgpt-4o": (1.0, 1.0, 1.0), "gpt-4-turbo": (1.0, 1.0, 0.5),
    "gpt-4.1": (0.25, 1.0, 0.5), "gpt-5": (0.1, 1.0, 0.5), "o1": (0.5, 1.0, 0.5), "o3": (0.25, 1.0, 0.5),
    "o4": (0.25, 1.0, 0.5), "claude": (0.1, 1.25, 0.5), "gemini": (0.25, 1.0, 0.5),
}


def _with_family_rates(model_id: str, price: Price) -> Price:
    families = [f for f in _FAMILY_RATES if model_id == f or model_id.startswith(f + "-") or model_id.startswith(f + ".")]
    if not families:
        return price
    read, write, batch = _FAMILY_RATES[max(families, key=len)]
    return Price(price.input_per_mtok, price.output_per_mtok, round(price.input_per_mtok * read, 6),
                 round(price.input_per_mtok * write, 6), batch)


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
PRICES = {model_id: _with_family_rates(model_id, price) for model_id, price in PRICES.items()}

PriceLike = Price | Mapping[str, float] | tuple[float, float] | list[float]


def as_price(value: PriceLike) -> Price:
    """A `Price` from a Price, an `{input: , output: }` mapping or an `(input, output)` pair (USD per 1M tokens)."""
    if isinstance(value, Price):
        return value
    if isinstance(value, Mapping):
        try:
            optional = {field: float(value[key]) for key, field in (
                ("cached_input", "cached_input_per_mtok"), ("cache_write", "cache_write_per_mtok"),
                ("batch", "batch_factor")) if value.get(key) is not None}
            return Price(float(value["input"]), float(value["output"]), **optional)
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
        key = model_id if model_id in table else max(
            (k for k in table if model_id.startswith(k + "-") or model_id.startswith(k + "@")), key=len, default=None)
        if key is not None:
            value = table[key]
            price = as_price(value)
            if table is not PRICES and not (isinstance(value, Mapping) and any(
                    value.get(k) is not None for k in ("cached_input", "cache_write", "batch"))):
                price = _with_family_rates(model_id, price)  # an override of input/output keeps the family's ratios
            return price
    return None


def cost_usd(model_id: str, input_tokens: int | None, output_tokens: int | None,
             overrides: Mapping[str, PriceLike] | None = None) -> float | None:
    """Cost of one call: input_tokens × input price + output_tokens × output price, per 1M tokens.

    None when the model's price is unknown or no usage was reported.
    """
    price = price_for(model_id, overrides)
    if price is None or (input_tokens is None and output_tokens is None):
        return None
    return price.cost(input_tokens, output_tokens)


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
            return response_cost(price_for(model_id, overrides), response)
    return None


def response_cost(price: Price | None, response: Any) -> float | None:
    """USD of one `ModelResponse` at `price`: cached reads and cache writes at their rates, a batch
    answer (`response.batch_id`) at the batch rate. None without a price or usage."""
    if price is None or (response.input_tokens is None and response.output_tokens is None):
        return None
    return price.cost(response.input_tokens, response.output_tokens,
                      cached_input_tokens=getattr(response, "cached_input_tokens", None),
                      cache_write_tokens=getattr(response, "cache_write_tokens", None),
                      batch=bool(getattr(response, "batch_id", None)))
