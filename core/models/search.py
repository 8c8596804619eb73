"""What tuning searches: a :class:`Param` per searched setting, and the spaces of the estimators.

A kind's space (``Kind.search``) is its estimator's space, its recipe's own settings (a window)
and any narrowing the kind asks for; the same data is stored with the study and on the tuned
version's card.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["BOOSTED", "HIST_BOOSTED", "RECURRENT", "VOL_BOOSTED", "VOL_RECURRENT", "Param"]


@dataclass(frozen=True)
class Param:
    """One searched setting: ``int`` / ``float`` between ``low`` and ``high`` (``log`` scale or
    ``step``), or ``categorical`` over ``choices``."""

    kind: str
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "categorical":
            return {"type": "categorical", "choices": list(self.choices)}
        out: dict[str, Any] = {"type": self.kind, "low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.step is not None:
            out["step"] = self.step
        return out


#: A boosted tree classifier's settings (XGBoost, and the fields other boosters share).
BOOSTED = {
    "n_estimators": Param("int", 50, 400, step=50),
    "max_depth": Param("int", 2, 8),
    "learning_rate": Param("float", 0.01, 0.3, log=True),
    "subsample": Param("float", 0.5, 1.0),
    "colsample_bytree": Param("float", 0.5, 1.0),
}
#: scikit-learn's HistGradientBoostingClassifier settings.
HIST_BOOSTED = {
    "n_estimators": Param("int", 50, 500, step=50),
    "max_depth": Param("int", 2, 8),
    "learning_rate": Param("float", 0.01, 0.3, log=True),
    "max_leaf_nodes": Param("int", 4, 63, log=True),
    "min_samples_leaf": Param("int", 10, 200, log=True),
    "l2_regularization": Param("float", 1e-3, 10.0, log=True),
}
#: The LSTM network's settings (the window is the sequence recipe's).
RECURRENT = {
    "units": Param("int", 8, 64, log=True),
    "dropout": Param("float", 0.0, 0.4),
    "learning_rate": Param("float", 1e-4, 1e-2, log=True),
    "batch_size": Param("categorical", choices=(64, 128, 256)),
}
#: The boosted volatility regressor (XGBoost in logs, no early stopping, so the number of trees
#: and the learning rate are searched together; shallow trees: the HAR lags carry most of it),
#: and whether it reads the reference coin's volatility (cross-asset inputs).
VOL_BOOSTED = {
    "n_estimators": Param("int", 100, 600, step=100),
    "max_depth": Param("int", 2, 6),
    "learning_rate": Param("float", 0.01, 0.1, log=True),
    "subsample": Param("float", 0.5, 1.0),
    "cross_asset": Param("categorical", choices=(False, True)),
}
#: The volatility LSTM on the log-variance sequence: its window, width and learning rate.
VOL_RECURRENT = {
    "window": Param("categorical", choices=(24, 48, 96)),
    "units": Param("int", 8, 32, log=True),
    "learning_rate": Param("float", 1e-3, 1e-2, log=True),
}
