"""Who responds: per-action uplift models, their Qini evaluation and their sealed bundle.

:class:`UpliftModel` is an X-learner or a T-learner (Kuenzel et al., PNAS 116 (2019)
4156-4165) on LightGBM. The T-learner: for each action ``a``, ``mu_a(x) = P(response | x,
treated with a)`` is fitted on the action's treated customers, and ``mu_0(x) = P(response |
x, not contacted)`` on the control customers of *all* actions pooled (not being contacted is
the same for every action, and the control groups are random samples of the campaign's
customers, so pooling them is unbiased given ``x`` and gives the small control groups
``n_actions`` times more data). The predicted uplift of a
customer is ``tau_a(x) = mu_a(x) - mu_0(x)``: negative for customers a contact hurts. The
X-learner (the default: it ranks better on simulated campaigns, ``bench/bench_campaigns.py``)
imputes each customer's effect from those outcome models and regresses it on ``x``.

``x`` is what scoring has for every customer at the campaign date: the churn model's features
joined with its predictions (``p_churn``, ``p_repurchase``, ``expected_spend``), as
:func:`winback.scoring.score` hands them to ``predict_uplift``.

Why not causalml or scikit-uplift: causalml 0.18 pulls xgboost, shap, pathos, a pinned forestci
and black into the runtime; scikit-uplift 0.5.1 (2022, unmaintained) calls scikit-learn's
``stable_cumsum``, deprecated in 1.8 and removed in 1.10. A T-learner is two LightGBM fits per
action, and the Qini curve is a cumulative sum; both are written here.

Qini (N. J. Radcliffe, "Using control groups to target on predicted lift", Direct Marketing
Analytics Journal (2007) 14-21): customers sorted by a score, best first; after the first ``k``
the Qini curve is ``Q(k) = R_t(k) - R_c(k) * N_t(k) / N_c(k)``, the incremental responders, with
``R`` responders and ``N`` customers of each group among the first ``k``. The *Qini coefficient*
here is the area between that curve and the straight line of random targeting (from 0 to
``Q(N)``), both divided by ``N``, over the fraction targeted in [0, 1]: 0 for random targeting,
positive when the score puts the customers with the largest uplift first.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from winback.actions import control_mask
from winback.dates import DateLike
from winback.exceptions import ConfigError, DataError, ModelError
from winback.models import WinbackModel, seal_bundle, verify_bundle

__all__ = [
    "UPLIFT_FORMAT",
    "UpliftModel",
    "campaign_features",
    "evaluate_uplift",
    "fit_campaign_uplift",
    "holdout_mask",
    "load_uplift_model",
    "qini_coefficient",
    "qini_curve",
    "save_uplift_model",
]

logger = logging.getLogger(__name__)

UPLIFT_FORMAT = "winback-uplift/1"
_DOCUMENT = "uplift.json"
_CONTROL = "__control__"
#: The default inputs: the churn model's predictions and the RFM, value and engagement features
#: an uplift depends on; fewer inputs than the churn model's ~65 keep the small difference of
#: two noisy models from fitting noise (``features=None`` uses every numeric column).
DEFAULT_FEATURES = (
    "p_churn",
    "p_repurchase",
    "expected_spend",
    "days_since_last_order",
    "n_orders",
    "frequency",
    "monetary_mean",
    "gap_mean_days",
    "overdue_ratio",
    "bgnbd_p_alive",
    "gg_expected_value",
    "events_all_days_since_last",
)
_LGBM = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 200,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 10.0,
    "num_threads": 1,
    "deterministic": True,
    "force_col_wise": True,
    "verbosity": -1,
}
#: The X-learner's second stage: a regression of noisy imputed effects, kept smooth.
_SMOOTH = {
    "objective": "regression",
    "num_leaves": 7,
    "min_data_in_leaf": 400,
    "learning_rate": 0.03,
}


class UpliftModel:
    """Per-action uplift on LightGBM: an X-learner (default) or a T-learner (module docstring).

    Parameters
    ----------
    learner : {"x", "t"}
        ``"t"``: ``mu_a(x) - mu_0(x)``. ``"x"``: the same outcome models, cross-fitted on two
        halves of the customers (a stable hash of the id), impute each customer's effect --
        ``y - mu_0(x)`` for the treated, ``mu_a(x) - y`` for the controls -- and a smooth
        LightGBM regression of the imputed effects on ``x`` is the action's uplift model
        (Kuenzel et al. 2019; one regression over both groups rather than two weighted ones).
    features : tuple of str, optional
        Columns of ``x`` to use (:data:`DEFAULT_FEATURES`); None: every numeric column.
    n_estimators : int
        Boosting rounds of each outcome model.
    params : dict, optional
        LightGBM parameters overriding the defaults (binary objective, 15 leaves, at least 200
        customers per leaf, L2 10, one thread, deterministic).
    seed : int
        LightGBM's seed.

    Attributes
    ----------
    actions_ : tuple of str
        The actions with an uplift model.
    features_ : list of str
        The columns of ``x``, in order.
    boosters_ : dict
        T-learner: ``{action: Booster}`` of the treated outcome models and ``"__control__"``,
        the pooled control model; X-learner: ``{action: Booster}`` of the uplift regressions.
    """

    def __init__(
        self,
        *,
        learner: str = "x",
        features: tuple[str, ...] | None = DEFAULT_FEATURES,
        n_estimators: int = 100,
        params: dict[str, Any] | None = None,
        seed: int = 0,
    ) -> None:
        self.learner = learner
        self.features = features
        self.n_estimators = n_estimators
        self.params = params
        self.seed = seed

    def fit(self, frame: pd.DataFrame, outcomes: pd.DataFrame) -> UpliftModel:
        """Fit on a campaign's customers.

        Parameters
        ----------
        frame : DataFrame
            ``x`` per customer, indexed by ``customer_id`` (str), numeric columns.
        outcomes : DataFrame
            ``customer_id`` (str), ``action``, ``group`` (treatment/control) and ``responded``
            (bool), e.g. :attr:`CampaignMeasurement.outcomes`.
        """
        if self.learner not in ("x", "t"):
            raise ConfigError(f"learner must be 'x' or 't', got {self.learner!r}.")
        data = _joined(frame, outcomes)
        wanted = frame.columns if self.features is None else list(self.features)
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            raise DataError(f"UpliftModel.fit: x lacks the feature column(s) {missing}.")
        self.features_ = [c for c in wanted if _numeric(frame[c])]
        control = data["group"].to_numpy() == "control"
        if control.sum() < 2:
            raise DataError("An uplift model needs control customers; the campaign has none.")
        self.boosters_ = {} if self.learner == "x" else {_CONTROL: self._booster(data, control)}
        actions = []
        for action in sorted(data["action"].unique()):
            treated = (data["action"].to_numpy() == action) & ~control
            if treated.sum() < 2:
                logger.warning("action %r has fewer than 2 treated customers: no model", action)
                continue
            self.boosters_[action] = (
                self._booster(data, treated)
                if self.learner == "t"
                else self._x_booster(data, treated, control, action)
            )
            actions.append(action)
        self.actions_ = tuple(actions)
        return self

    def _params(self, **overrides: Any) -> dict[str, Any]:
        return {**_LGBM, **overrides, **(self.params or {}), "seed": self.seed}

    def _booster(self, data: pd.DataFrame, rows: np.ndarray) -> lgb.Booster:
        """An outcome model P(response | x) on ``data[rows]``."""
        label = data["responded"].to_numpy(dtype=float)[rows]
        dataset = lgb.Dataset(data.loc[rows, self.features_], label=label, free_raw_data=True)
        return lgb.train(self._params(), dataset, num_boost_round=self.n_estimators)

    def _x_booster(
        self, data: pd.DataFrame, treated: np.ndarray, control: np.ndarray, action: str
    ) -> lgb.Booster:
        """The X-learner's uplift regression of ``action`` (see the class docstring)."""
        mine = (data["action"].to_numpy() == action) & (treated | control)
        half = control_mask(data.index.to_series(), campaign_id="uplift-fold", fraction=0.5)
        y = data["responded"].to_numpy(dtype=float)
        imputed = np.zeros(len(data))
        for fold in (True, False):
            train = half != fold
            x = data.loc[mine & (half == fold), self.features_]
            mu_1 = self._booster(data, treated & train).predict(x)
            mu_0 = self._booster(data, control & train).predict(x)
            was_treated = treated[mine & (half == fold)]
            outcome = y[mine & (half == fold)]
            imputed[mine & (half == fold)] = np.where(was_treated, outcome - mu_0, mu_1 - outcome)
        dataset = lgb.Dataset(data.loc[mine, self.features_], label=imputed[mine])
        params = self._params(**_SMOOTH)
        return lgb.train(params, dataset, num_boost_round=self.n_estimators)

    @property
    def columns(self) -> tuple[str, ...]:
        """The scored columns this model writes: ``uplift_<action>`` per action."""
        return tuple(f"uplift_{a}" for a in self.actions_)

    def predict_uplift(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return ``uplift_<action>`` (predicted incremental response) per row of ``frame``.

        ``frame`` holds the columns :attr:`features_` (missing ones are NaN, which LightGBM
        treats as missing values); the result is indexed like ``frame``.
        """
        if not hasattr(self, "boosters_"):
            raise ModelError("This UpliftModel is not fitted: call fit() or load_uplift_model().")
        x = frame.reindex(columns=self.features_).astype(float)
        if self.learner == "x":
            return pd.DataFrame(
                {f"uplift_{a}": self.boosters_[a].predict(x) for a in self.actions_},
                index=frame.index,
            )
        base = self.boosters_[_CONTROL].predict(x)
        return pd.DataFrame(
            {f"uplift_{a}": self.boosters_[a].predict(x) - base for a in self.actions_},
            index=frame.index,
        )


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _joined(frame: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    needed = ["customer_id", "action", "group", "responded"]
    missing = [c for c in needed if c not in outcomes.columns]
    if missing:
        raise DataError(f"outcomes lack {missing}; pass CampaignMeasurement.outcomes.")
    data = outcomes[needed].set_index("customer_id").join(frame, how="inner")
    if len(data) < len(outcomes):
        raise DataError(
            f"{len(outcomes) - len(data)} campaign customers have no features at the campaign "
            "date; build the features from the orders up to the campaign date."
        )
    return data


# --------------------------------------------------------------------------------- evaluation
def qini_curve(
    responded: np.ndarray, treated: np.ndarray, score: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the Qini curve: (fraction targeted, incremental responders / N), both from 0.

    Customers are taken best score first; tied scores enter together (the curve is evaluated
    only at the end of each tie group, so the row order cannot matter).

    Examples
    --------
    A treated responder, a control non-responder, a treated non-responder, a control responder
    (no control customer yet after the first: the curve stays 0 there):

    >>> x, q = qini_curve(np.array([1, 0, 0, 1]), np.array([1, 0, 1, 0]),
    ...                   np.array([4.0, 3.0, 2.0, 1.0]))
    >>> x.tolist(), q.tolist()
    ([0.0, 0.25, 0.5, 0.75, 1.0], [0.0, 0.0, 0.25, 0.25, 0.0])
    """
    responded = np.asarray(responded, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    order = np.argsort(-np.asarray(score, dtype=float), kind="stable")
    y, t = responded[order], treated[order]
    n_t, n_c = np.cumsum(t), np.cumsum(~t)
    r_t, r_c = np.cumsum(y * t), np.cumsum(y * ~t)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(n_c > 0, r_t - r_c * n_t / np.maximum(n_c, 1), 0.0)
    sorted_score = np.asarray(score, dtype=float)[order]
    ends = np.flatnonzero(np.r_[sorted_score[1:] != sorted_score[:-1], True])
    n = len(y)
    x = np.r_[0.0, (ends + 1) / n]
    return x, np.r_[0.0, q[ends] / n]


def qini_coefficient(responded: np.ndarray, treated: np.ndarray, score: np.ndarray) -> float:
    """Return the area between the Qini curve and random targeting (see the module docstring).

    Examples
    --------
    >>> qini_coefficient(np.array([1, 0, 0, 1]), np.array([1, 0, 1, 0]),
    ...                  np.array([4.0, 3.0, 2.0, 1.0]))
    0.125
    """
    x, q = qini_curve(responded, treated, score)
    random = q[-1] * x
    return float(np.trapezoid(q - random, x))


def evaluate_uplift(
    model: UpliftModel,
    frame: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    seed: int = 0,
) -> dict[str, dict[str, float | int]]:
    """Return, per action, the Qini coefficient of the model, of ``p_churn`` and of random order.

    ``outcomes`` are held-out customers (not used to fit ``model``). Random targeting is the
    mean Qini coefficient of 20 random orders (seeded), which is 0 up to noise.
    """
    data = _joined(frame, outcomes)
    uplift = model.predict_uplift(data)
    rng = np.random.default_rng(seed)
    out: dict[str, dict[str, float | int]] = {}
    for action in model.actions_:
        rows = (data["action"] == action).to_numpy()
        y = data["responded"].to_numpy(dtype=float)[rows]
        t = (data["group"] == "treatment").to_numpy()[rows]
        if t.all() or not t.any():
            continue
        scores = {
            "model": uplift[f"uplift_{action}"].to_numpy()[rows],
            "p_churn": data["p_churn"].to_numpy(dtype=float)[rows],
        }
        result: dict[str, float | int] = {
            f"qini_{name}": round(qini_coefficient(y, t, s), 6) for name, s in scores.items()
        }
        draws = [qini_coefficient(y, t, rng.random(len(y))) for _ in range(20)]
        result["qini_random"] = round(float(np.mean(draws)), 6)
        result["n_treatment"], result["n_control"] = int(t.sum()), int((~t).sum())
        out[action] = result
    return out


def holdout_mask(customer_ids: pd.Series, *, fraction: float = 0.3) -> np.ndarray:
    """True for the customers held out to evaluate an uplift model (a stable hash of the id)."""
    return control_mask(customer_ids.astype(str), campaign_id="uplift-holdout", fraction=fraction)


# --------------------------------------------------------------------------------- the bundle
def save_uplift_model(
    model: UpliftModel, path: str | os.PathLike[str], *, metadata: dict[str, Any] | None = None
) -> Path:
    """Write ``model`` as a sealed bundle: LightGBM text per booster, ``uplift.json``, manifest.

    An existing folder at ``path`` is replaced only when it is an uplift bundle (winback never
    replaces what it did not write).

    Raises
    ------
    ModelError
        If ``path`` exists and is not an uplift bundle, or the model is not fitted.
    """
    path = Path(path)
    if not hasattr(model, "boosters_"):
        raise ModelError("save_uplift_model: the model is not fitted.")
    if path.exists() and not _is_uplift_bundle(path):
        raise ModelError(
            f"{path} exists and is not an uplift bundle; winback will not replace it. "
            "Choose a new folder."
        )
    files = {name: f"{name}.txt" for name in model.boosters_}
    document = {
        "format": UPLIFT_FORMAT,
        "learner": model.learner,
        "actions": list(model.actions_),
        "features": list(model.features_),
        "n_estimators": model.n_estimators,
        "seed": model.seed,
        "files": files,
        "metadata": metadata or {},
    }
    contents = {
        _DOCUMENT: json.dumps(document, indent=2, sort_keys=True, default=str).encode(),
        **{files[n]: b.model_to_string().encode() for n, b in model.boosters_.items()},
    }
    return seal_bundle(contents, path, format=UPLIFT_FORMAT)


def _is_uplift_bundle(path: Path) -> bool:
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("format") == UPLIFT_FORMAT


def load_uplift_model(path: str | os.PathLike[str]) -> UpliftModel:
    """Load an uplift bundle after checking every file's sha256 (see :func:`save_uplift_model`).

    Raises
    ------
    ModelError
        If the folder is missing, a file fails its hash, or the bundle is of another format.
    """
    path = Path(path)
    if not path.is_dir():
        raise ModelError(
            f"No uplift bundle at {path}: expected a folder written by `winback measure "
            "--fit-uplift`."
        )
    verify_bundle(path, format=UPLIFT_FORMAT)
    try:
        document = json.loads((path / _DOCUMENT).read_text(encoding="utf-8"))
        model = UpliftModel(
            learner=document["learner"],
            features=tuple(document["features"]),
            n_estimators=document["n_estimators"],
            seed=document["seed"],
        )
        model.features_ = list(document["features"])
        model.actions_ = tuple(document["actions"])
        model.boosters_ = {
            name: lgb.Booster(model_str=(path / file).read_text(encoding="utf-8"))
            for name, file in document["files"].items()
        }
        model.metadata_ = document.get("metadata", {})
    except (OSError, ValueError, KeyError, TypeError, lgb.basic.LightGBMError) as exc:
        raise ModelError(f"Uplift bundle {path} cannot be read ({exc!r}); refit it.") from exc
    return model


# ----------------------------------------------------------------------- from a campaign
def campaign_features(
    churn_model: WinbackModel,
    orders: pd.DataFrame,
    *,
    campaign_date: DateLike,
    events: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return ``x`` at the campaign date: the churn model's features joined with its predictions,
    exactly as scoring hands them to ``predict_uplift``, indexed by ``customer_id`` as str.

    Only data at or before the campaign date is read (the features' cutoff rule).
    """
    features = churn_model.build_features(
        orders, cutoff=campaign_date, events=events, customers=customers
    )
    frame = features.join(churn_model.predict(features))
    frame.index = frame.index.astype(str).rename("customer_id")
    return frame


def fit_campaign_uplift(
    x: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    holdout: float = 0.3,
    learner: str = "x",
    n_estimators: int = 100,
    seed: int = 0,
) -> tuple[UpliftModel, dict[str, Any]]:
    """Fit per-action uplift models on a measured campaign and evaluate them on a held-out part.

    The customers are split by a stable hash of their id: ``holdout`` of them are held out; a
    model fitted on the rest is evaluated there (Qini of the model, of ``p_churn``, of random
    order, per action); the returned model is then refitted on every customer.

    Parameters
    ----------
    x : DataFrame
        :func:`campaign_features` of the campaign's customers.
    outcomes : DataFrame
        :attr:`CampaignMeasurement.outcomes` (``customer_id``, ``action``, ``group``,
        ``responded``).

    Returns
    -------
    (UpliftModel, dict)
        The model fitted on all customers, and ``{"holdout": fraction, "actions": {action:
        {qini_model, qini_p_churn, qini_random, n_treatment, n_control}}}``.
    """
    held = holdout_mask(outcomes["customer_id"], fraction=holdout)
    settings = {"learner": learner, "n_estimators": n_estimators, "seed": seed}
    trial = UpliftModel(**settings).fit(x, outcomes.loc[~held])
    evaluation = {
        "holdout": holdout,
        "actions": evaluate_uplift(trial, x, outcomes.loc[held], seed=seed),
    }
    return UpliftModel(**settings).fit(x, outcomes), evaluation
