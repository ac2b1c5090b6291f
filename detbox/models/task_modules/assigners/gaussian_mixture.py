"""A two-component 1-D Gaussian mixture fitted by EM, as PAA uses it (no scikit-learn).

MMDetection's ``PAAHead`` fits ``sklearn.mixture.GaussianMixture(2, weights_init=[0.5, 0.5],
means_init=[min, max], precisions_init=[1, 1], covariance_type=...)`` to the sorted losses of
a ground truth's candidate anchors, then calls ``predict`` and ``score_samples``. With all
three initial values given, scikit-learn's result does not depend on its random state, and
this class reproduces it: the same EM steps in float64 (E-step: log responsibilities; M-step:
``nk = sum(resp) + 10 eps``, weights ``nk / sum(nk)``, means, variances ``+ reg_covar`` computed
as scikit-learn does for each covariance type: ``E[x^2] - mean^2`` for ``'diag'`` and
``'spherical'``, centred for ``'full'``, one shared variance for ``'tied'``), stopping when the
mean log-likelihood changes by less than ``tol`` or after ``max_iter`` iterations, keeping the
last parameters. Checked against scikit-learn 1.5.2 (``tests/data/mmdet_reference_dense2/
gmm.json``).

>>> x = torch.tensor([0.1, 0.2, 0.15, 2.0, 2.2, 2.1])
>>> gmm = GaussianMixture1D(means_init=(0.1, 2.2)).fit(x)
>>> gmm.predict(x).tolist()
[0, 0, 0, 1, 1, 1]
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor

__all__ = ["GaussianMixture1D"]

_COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
_EPS64 = torch.finfo(torch.float64).eps


class GaussianMixture1D:
    """Two (or more) component Gaussian mixture on scalar samples.

    Args:
        means_init: initial means, one per component.
        weights_init: initial weights (default uniform).
        precisions_init: initial precisions (1 / variance, default 1).
        covariance_type: scikit-learn's name; ``'tied'`` shares one variance.
        tol: convergence threshold on the change of the mean log-likelihood.
        reg_covar: added to every variance.
        max_iter: most EM iterations.
    """

    def __init__(self, means_init: Sequence[float], weights_init: Sequence[float] | None = None,
                 precisions_init: Sequence[float] | None = None,
                 covariance_type: str = "diag", tol: float = 1e-3, reg_covar: float = 1e-6,
                 max_iter: int = 100) -> None:
        if covariance_type not in _COVARIANCE_TYPES:
            raise ValueError(f"covariance_type must be one of {_COVARIANCE_TYPES}, got "
                             f"{covariance_type!r}")
        k = len(means_init)
        self.means_init = [float(m) for m in means_init]
        self.weights_init = [float(w) for w in (weights_init or [1.0 / k] * k)]
        self.precisions_init = [float(p) for p in (precisions_init or [1.0] * k)]
        if not len(self.weights_init) == len(self.precisions_init) == k:
            raise ValueError("means_init, weights_init and precisions_init need one value per "
                             "component")
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_iter_ = 0
        self.converged_ = False

    @staticmethod
    def _as_samples(x: Tensor) -> tuple[Tensor, Tensor]:
        """``(x, x^2)`` in float64, the square taken in the input's precision as NumPy does
        for scikit-learn's float32 input."""
        x = x.detach().reshape(-1)
        sq = x * x if x.dtype == torch.float32 else x.to(torch.float64) ** 2
        return x.to(torch.float64), sq.to(torch.float64)

    def _weighted_log_prob(self, x: Tensor, x_sq: Tensor) -> Tensor:
        """``Tensor[N, K]``: ``log N(x | mean_k, var_k) + log w_k``."""
        prec_chol = self.precisions_cholesky_  # [K]
        prec = prec_chol ** 2
        mahal = (self.means_ ** 2 * prec)[None, :] - 2.0 * x[:, None] * (self.means_ * prec)[
            None, :] + x_sq[:, None] * prec[None, :]
        log_prob = -0.5 * (math.log(2 * math.pi) + mahal) + torch.log(prec_chol)[None, :]
        return log_prob + torch.log(self.weights_)[None, :]

    def _e_step(self, x: Tensor, x_sq: Tensor) -> tuple[Tensor, Tensor]:
        weighted = self._weighted_log_prob(x, x_sq)
        log_norm = torch.logsumexp(weighted, dim=1)
        return log_norm.mean(), weighted - log_norm[:, None]

    def _m_step(self, x: Tensor, x_sq: Tensor, log_resp: Tensor) -> None:
        resp = torch.exp(log_resp)  # [N, K]
        nk = resp.sum(0) + 10 * _EPS64
        means = (resp * x[:, None]).sum(0) / nk
        if self.covariance_type == "full":  # scikit-learn centres the samples here
            var = (resp * (x[:, None] - means[None, :]) ** 2).sum(0) / nk + self.reg_covar
        elif self.covariance_type == "tied":  # one variance: sum x^2 - sum nk mean^2
            var = (x_sq.sum() - (nk * means ** 2).sum()) / nk.sum()
            var = (var + self.reg_covar).expand_as(means)
        else:  # 'diag', 'spherical': E[x^2] - mean^2
            var = (resp * x_sq[:, None]).sum(0) / nk - means ** 2 + self.reg_covar
        if (var <= 0).any():
            raise ValueError("GaussianMixture1D: a component has collapsed (variance <= 0)")
        self.weights_ = nk / nk.sum()
        self.means_ = means
        self.covariances_ = var
        self.precisions_cholesky_ = 1.0 / torch.sqrt(var)

    def fit(self, x: Tensor) -> GaussianMixture1D:
        """Fit to samples ``x`` (``Tensor[N]`` or ``Tensor[N, 1]``, N >= 2); returns self."""
        x, x_sq = self._as_samples(x)
        if x.numel() < len(self.means_init):
            raise ValueError(f"GaussianMixture1D needs at least {len(self.means_init)} samples, "
                             f"got {x.numel()}")
        self.weights_ = x.new_tensor(self.weights_init)
        self.means_ = x.new_tensor(self.means_init)
        self.precisions_cholesky_ = torch.sqrt(x.new_tensor(self.precisions_init))
        lower_bound = -math.inf
        self.converged_ = False
        for n_iter in range(1, self.max_iter + 1):
            previous = lower_bound
            log_norm, log_resp = self._e_step(x, x_sq)
            self._m_step(x, x_sq, log_resp)
            lower_bound = float(log_norm)
            self.n_iter_ = n_iter
            if abs(lower_bound - previous) < self.tol:
                self.converged_ = True
                break
        self.lower_bound_ = lower_bound
        return self

    def predict(self, x: Tensor) -> Tensor:
        """``Tensor[N]`` int64: the most probable component of each sample."""
        return self._weighted_log_prob(*self._as_samples(x)).argmax(dim=1)

    def score_samples(self, x: Tensor) -> Tensor:
        """``Tensor[N]`` float64: the log-likelihood of each sample under the mixture."""
        weighted = self._weighted_log_prob(*self._as_samples(x))
        return torch.logsumexp(weighted, dim=1)
