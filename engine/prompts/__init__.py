"""Prompt strategies and the dimension-aware templates they fill.

>>> from engine.prompts import get_strategy, strategy_names
>>> strategy_names()
['zero-shot', 'cot', 'structured', 'scene', 'few-shot', 'self-consistency', 'describe-then-judge']
>>> get_strategy("chain-of-thought").name
'cot'
"""

from engine.prompts.base import Call, Strategy, StrategyContext, StrategyOptions, StrategyOutcome
from engine.prompts.exemplars import ExemplarError, exemplar_answer, holdout_pool, select_exemplars
from engine.prompts.labels import DIMENSIONS, display_name, label_order, label_order_rows, label_orders
from engine.prompts.strategies import (STRATEGY_REGISTRY, PromptStrategy, StrategyInfo, get_strategy, register_strategy,
                                      strategy_info, strategy_names)
from engine.prompts.templates import answer_schema, available_languages, instructions

__all__ = [
    "Call", "Strategy", "StrategyContext", "StrategyOptions", "StrategyOutcome", "PromptStrategy",
    "STRATEGY_REGISTRY", "StrategyInfo", "register_strategy", "strategy_info", "get_strategy",
    "strategy_names", "DIMENSIONS", "label_order", "label_orders",
    "label_order_rows", "display_name", "answer_schema", "instructions", "available_languages",
    "select_exemplars", "holdout_pool", "exemplar_answer", "ExemplarError",
]
