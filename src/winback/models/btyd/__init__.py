"""Classical buy-till-you-die baselines: BG/NBD, Pareto/NBD and Gamma-Gamma, in NumPy/SciPy.

``BetaGeo`` and ``ParetoNBD`` model when customers buy and whether they are still active, from
an RFM summary (``frequency``, ``recency``, ``T``); ``GammaGamma`` models how much they spend per
transaction (``monetary_value``). All fit by maximum likelihood on log-parameters and follow the
scikit-learn contract. Their fits reproduce the published CDNOW results (Fader, Hardie & Lee
2005).
"""

from winback.models.btyd._beta_geo import BetaGeo
from winback.models.btyd._gamma_gamma import GammaGamma
from winback.models.btyd._pareto_nbd import ParetoNBD

__all__ = ["BetaGeo", "GammaGamma", "ParetoNBD"]
