"""An offline adapter that answers the polarity it finds in the prompt's last word (a stand-in for a model),
declared with its typed options and capabilities."""

from pydantic import Field

from engine.models.base import ModelAdapter, ModelRequest, ModelResponse
from engine.models.registry import AdapterOptions, register_adapter


class EchoOptions(AdapterOptions):
    prefix: str = Field(default="Polarity", description="the word written before the echoed answer")


@register_adapter("toy-echo", options=EchoOptions, dimensions=("polarity",),
                  description="echoes the prompt's last word as the polarity")
class EchoAdapter(ModelAdapter):
    name = "toy-echo"
    local = True

    async def generate(self, request: ModelRequest) -> ModelResponse:
        last = request.messages[-1].text.split()[-1].strip(".?")
        prefix = self.spec.options.get("prefix", "Polarity")
        return ModelResponse(text=f"{prefix}: {last}", input_tokens=3, output_tokens=2, latency_ms=0.1,
                             model_id_resolved="toy-echo-1")
