"""An offline adapter that answers the polarity it finds in the prompt's last word (a stand-in for a model)."""

from engine.models.base import ModelAdapter, ModelRequest, ModelResponse


class EchoAdapter(ModelAdapter):
    name = "toy-echo"
    local = True

    async def generate(self, request: ModelRequest) -> ModelResponse:
        last = request.messages[-1].text.split()[-1].strip(".?")
        return ModelResponse(text=f"Polarity: {last}", input_tokens=3, output_tokens=2, latency_ms=0.1,
                             model_id_resolved="toy-echo-1")
