import pytest

from detbox.engine import LogBuffer


def test_weighted_average_of_last_n_and_clear():
    buf = LogBuffer()
    buf.update(dict(loss=1.0, acc=10.0), count=1)
    buf.update(dict(loss=2.0, acc=20.0), count=3)
    buf.update(dict(loss=4.0), count=1)
    buf.average(2)
    assert buf.ready
    assert buf.output["loss"] == pytest.approx((2 * 3 + 4) / 4)
    assert buf.output["acc"] == pytest.approx((10 + 60) / 4)
    buf.average()
    assert buf.output["loss"] == pytest.approx((1 + 6 + 4) / 5)
    buf.clear_output()
    assert not buf.ready and not buf.output and buf.val_history["loss"] == [1.0, 2.0, 4.0]
    buf.clear()
    assert not buf.val_history and not buf.n_history
    with pytest.raises(TypeError):
        buf.update([1.0])
