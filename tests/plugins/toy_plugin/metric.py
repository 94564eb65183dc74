"""A metric: the share of answered items whose answer is 'positive', with the engine's paired bootstrap."""

import numpy as np

from engine.metrics.bootstrap import masked_mean
from engine.metrics.registry import register_metric


@register_metric("toy_positive_share", dimensions=("polarity",), higher_is_better=None,
                 description="share of answered items answered 'positive'")
def positive_share(evaluation, counts):
    positive = np.array([a == "positive" for a in evaluation.answers], dtype=float)
    return masked_mean(positive, evaluation.answered, counts)
