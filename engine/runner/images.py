"""Images for the runner: prepared ahead of need on a thread pool, each one once per invocation.

Workers ask for the image of the item they start; they also ask for one a little further down
their list (`prefetch`), so decoding and encoding happen while earlier requests are on the wire.
Several runs over the same dataset (models x strategies) share one prepared copy: a future per
item joins concurrent requests, and `engine.preprocess`'s content-addressed cache keeps the bytes.
"""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from engine.datasets.base import Dataset, Item
from engine.models.base import ImagePart

__all__ = ["ImageProvider"]


class ImageProvider:
    def __init__(self, max_side: int, workers: int | None = None, keep: int = 2048):
        self.max_side = max_side
        self.pool = ThreadPoolExecutor(max_workers=workers or min(8, (os.cpu_count() or 2) + 1),
                                       thread_name_prefix="affectlens-image")
        self.keep = keep
        self._futures: OrderedDict[tuple[str, str], asyncio.Future] = OrderedDict()

    def _prepare(self, path: str, label: str) -> ImagePart:
        from engine.preprocess import prepare_image
        return prepare_image(path, max_side=self.max_side, name=label)

    def _future(self, dataset: Dataset, item: Item) -> asyncio.Future:
        key = (dataset.name, item.item_id)
        future = self._futures.get(key)
        if future is None:
            path = dataset.image_file(item)
            label = f"{dataset.name}/{item.item_id} ({path})"
            if path is None:
                future = asyncio.get_running_loop().create_future()
                from engine.preprocess import ImageError
                future.set_exception(ImageError(label, "the item has no image path"))
            else:
                future = asyncio.get_running_loop().run_in_executor(self.pool, self._prepare, str(path), label)
            future.add_done_callback(lambda f: f.cancelled() or f.exception())  # no "never retrieved" noise
            self._futures[key] = future
            while len(self._futures) > self.keep:
                self._futures.popitem(last=False)
        else:
            self._futures.move_to_end(key)
        return future

    def prefetch(self, dataset: Dataset, item: Item) -> None:
        """Start preparing `item`'s image now without waiting for it."""
        self._future(dataset, item)

    async def get(self, dataset: Dataset, item: Item) -> ImagePart:
        """The prepared image; raises `engine.preprocess.ImageError` naming the file when it cannot be read."""
        return await asyncio.shield(self._future(dataset, item))

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self._futures.clear()
