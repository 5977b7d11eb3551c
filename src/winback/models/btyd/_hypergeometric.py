"""The Gaussian hypergeometric function 2F1(1, P; P+Q; z) on [0, 1), robust for large P.

The Pareto/NBD needs it with P up to the largest purchase count, where ``scipy.special.hyp2f1``
returns NaN (e.g. P = 300, Q = 2, z = 0.95 in SciPy 1.17) or loses digits when Q is near an
integer and z is near 1. Gauss's continued fraction converges at a rate set by z alone.
"""

from __future__ import annotations

import numpy as np

__all__ = ["hyp2f1_one"]

_MAX_DEPTH = 4096  # full double precision for z <= 1 - 2e-5; beyond, the error grows slowly
_DEPTHS = np.unique(np.round(8 * 1.5 ** np.arange(17)).astype(int).clip(max=_MAX_DEPTH))
_DIGITS = 36.9  # -ln(1e-16): truncation error at the level of rounding error


def _largest_z(depth: np.ndarray) -> np.ndarray:
    """The largest z for which ``rho(z) ** depth <= exp(-_DIGITS)``."""
    rho = np.exp(-_DIGITS / depth)
    return 1.0 - ((1.0 - rho) / (1.0 + rho)) ** 2


_Z_LIMITS = _largest_z(_DEPTHS[:-1].astype(np.float64))


def hyp2f1_one(P: np.ndarray, Q: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Return ``2F1(1, P; P + Q; z)`` elementwise for ``P > 0``, ``Q > 0``, ``0 <= z < 1``.

    Gauss's continued fraction for ``2F1(a + 1, b; c + 1; z) / 2F1(a, b; c; z)`` at ``a = 0``,
    ``b = P``, ``c = P + Q - 1`` gives ``1 / (1 + k1 z / (1 + k2 z / (1 + ...)))`` with
    ``k_{2i+1} = -(c+i)(P+i) / ((c+2i)(c+2i+1))`` and ``k_{2i} = -(Q+i-1) i / ((c+2i-1)(c+2i))``,
    all negative and tending to -1/4, so the truncation error after n levels falls like
    ``rho ** n`` with ``rho = (1 - sqrt(1-z)) / (1 + sqrt(1-z))`` whatever P and Q are. It is
    evaluated bottom-up, which is stable for such fractions; elements are grouped by the depth
    their z needs (a grid of depths growing by 1.5x, from 8 to 4096).
    """
    P, Q, z = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (P, Q, z)))
    level = np.searchsorted(_Z_LIMITS, z)
    out = np.empty(z.shape)
    for index in np.flatnonzero(np.bincount(level.ravel())):
        group = level == index
        out[group] = _continued_fraction(P[group], Q[group], z[group], int(_DEPTHS[index]))
    return out


def _continued_fraction(P: np.ndarray, Q: np.ndarray, z: np.ndarray, depth: int) -> np.ndarray:
    """Evaluate the fraction from level ``depth`` up, in place (``tail`` is the value below)."""
    c = P + Q - 1.0
    minus_z = -z
    tail = np.ones_like(z)
    num, den = np.empty_like(z), np.empty_like(z)
    for j in range(depth, 0, -1):
        i = j // 2
        if j % 2:  # k_{2i+1} = -(c+i)(P+i) / ((c+2i)(c+2i+1))
            np.add(c, i, out=num)
            num *= P + i
            np.add(c, 2 * i, out=den)
            den *= c + (2 * i + 1)
        else:  # k_{2i} = -(Q+i-1) i / ((c+2i-1)(c+2i))
            np.add(Q, i - 1, out=num)
            num *= i
            np.add(c, 2 * i - 1, out=den)
            den *= c + 2 * i
        num *= minus_z
        den *= tail
        np.divide(num, den, out=tail)
        tail += 1.0
    return 1.0 / tail
