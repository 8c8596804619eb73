"""Compute once per candle content: a small memo for functions of a whole candle frame.

Training fits several model kinds on one coin's candles and the Signals page asks every kind of
a coin for its latest output; each used to compute the same feature matrix again (a quarter to a
half of a signal's time). :func:`by_content` keys a function's result by the frame's content (a
BLAKE2 digest of every column's bytes, the index included), so equal candles give the stored
result, and any change to any value computes afresh. Callers get a copy: mutating it never
reaches the memo.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = ["by_content", "content_key"]


def content_key(frame: pd.DataFrame) -> str | None:
    """A digest of ``frame``'s columns, dtypes, index and values; None when a column is not
    numeric or datetime (its bytes would be object pointers, not values)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr((list(frame.columns), [str(t) for t in frame.dtypes])).encode())
    for values in [frame.index, *(frame[c] for c in frame.columns)]:
        array = _raw(values)
        if array.dtype.kind not in "biufcmM":
            return None
        digest.update(np.ascontiguousarray(array).view(np.uint8).tobytes())
    return digest.hexdigest()


def _raw(values: pd.Index | pd.Series) -> np.ndarray:
    if isinstance(values.dtype, pd.DatetimeTZDtype):  # the zone is in the dtypes above
        values = (
            values.tz_convert(None) if isinstance(values, pd.Index) else values.dt.tz_convert(None)
        )
    return np.asarray(values)


def by_content(
    size: int = 2,
) -> Callable[[Callable[[pd.DataFrame], pd.DataFrame]], Callable[[pd.DataFrame], pd.DataFrame]]:
    """Decorate ``fn(frame) -> frame`` to keep its last ``size`` results by the input's content."""

    def decorate(
        fn: Callable[[pd.DataFrame], pd.DataFrame],
    ) -> Callable[[pd.DataFrame], pd.DataFrame]:
        memo: OrderedDict[str, pd.DataFrame] = OrderedDict()
        lock = threading.Lock()

        @functools.wraps(fn)
        def wrapper(frame: pd.DataFrame) -> pd.DataFrame:
            key = content_key(frame)
            if key is None:
                return fn(frame)
            with lock:
                hit = memo.get(key)
                if hit is not None:
                    memo.move_to_end(key)
            if hit is not None:
                return hit.copy()
            out = fn(frame)
            with lock:
                memo[key] = out.copy()
                while len(memo) > size:
                    memo.popitem(last=False)
            return out

        wrapper.cache_clear = memo.clear  # type: ignore[attr-defined]
        return wrapper

    return decorate
