"""A one-call prompt strategy that asks about the image and ends on the word the echo adapter repeats."""

from engine.models.base import Message, ModelRequest
from engine.prompts.base import StrategyContext, StrategyOutcome
from engine.prompts.strategies import register_strategy


@register_strategy("toy-prompt")
class AlwaysPositive:
    name = "toy-prompt"
    version = "1"

    def template_hash(self, options) -> str:
        return "toy-prompt-1"

    def render(self, context: StrategyContext) -> list[ModelRequest]:
        message = Message.user(context.image, "What polarity does this image convey? Say: positive")
        return [ModelRequest((message,), context.generate, context.task, context.item_key)]

    async def run(self, context: StrategyContext, call) -> StrategyOutcome:
        (request,) = self.render(context)
        return StrategyOutcome([await call("answer", request, 0)])
