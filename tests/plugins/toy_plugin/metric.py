"""A metric: the share of answered items whose answer is 'positive', with the engine's paired bootstrap."""

import numpy as np

from engine.metrics.bootstrap import masked_mean
from engine.plugins import Metric


def _positive_share(evaluation, counts):
    positive = np.array([a == "positive" for a in evaluation.answers], dtype=float)
    return masked_mean(positive, evaluation.answered, counts)


positive_share = Metric("toy_positive_share", _positive_share, dimensions=("polarity",), higher_is_better=None,
                        description="share of answered items answered 'positive'")
