"""GaussianMixture1D: EM as scikit-learn's GaussianMixture runs it for PAA.

``tests/data/mmdet_reference_dense2/gmm.json`` holds scikit-learn's results (``predict``,
``score_samples``, means, weights, iterations) on seeded PAA-like samples for the four
covariance types, recorded in the side venv by ``make_reference.py``. With ``'full'`` a
component can collapse onto one sample (variance ``reg_covar``), where the log-likelihood of
that sample depends on rounding; only the discrete results are compared there.
"""

import json

import pytest
import torch

from detbox.models.task_modules.assigners import GaussianMixture1D
from tests.conftest import DATA

GOLDEN = json.loads((DATA / "mmdet_reference_dense2" / "gmm.json").read_text())


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=lambda c: f"{c['covariance_type']}")
def test_matches_scikit_learn(case):
    x = torch.tensor(case["x"], dtype=torch.float32)
    gmm = GaussianMixture1D(means_init=(float(x.min()), float(x.max())), weights_init=(0.5, 0.5),
                            precisions_init=(1.0, 1.0),
                            covariance_type=case["covariance_type"]).fit(x)
    scores = gmm.score_samples(x)
    # what PAA uses: the components, the iterations, the most likely sample
    assert gmm.predict(x).tolist() == case["predict"]
    assert gmm.n_iter_ == case["n_iter"]
    assert int(scores.argmax()) == max(range(len(x)), key=case["score_samples"].__getitem__)
    assert gmm.means_.tolist() == pytest.approx(case["means"], rel=1e-6)
    assert gmm.weights_.tolist() == pytest.approx(case["weights"], rel=1e-6)
    if case["covariance_type"] in ("diag", "spherical"):  # PAA's default: equal to rounding
        assert scores.tolist() == pytest.approx(case["score_samples"], rel=1e-7, abs=1e-7)
    elif case["covariance_type"] == "tied":  # scikit-learn sums x^2 in float32 here
        assert scores.tolist() == pytest.approx(case["score_samples"], rel=1e-5, abs=1e-5)


def test_separates_two_clusters_and_checks_input():
    x = torch.tensor([0.1, 0.2, 0.15, 2.0, 2.2, 2.1])
    gmm = GaussianMixture1D(means_init=(0.1, 2.2)).fit(x)
    assert gmm.predict(x).tolist() == [0, 0, 0, 1, 1, 1] and gmm.converged_
    assert gmm.means_.tolist() == pytest.approx([0.15, 2.1], abs=1e-6)
    with pytest.raises(ValueError, match="at least 2 samples"):
        GaussianMixture1D(means_init=(0.0, 1.0)).fit(torch.tensor([1.0]))
    with pytest.raises(ValueError, match="covariance_type"):
        GaussianMixture1D(means_init=(0.0, 1.0), covariance_type="banana")
