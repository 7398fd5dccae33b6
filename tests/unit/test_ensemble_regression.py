"""The default ensemble's scores do not move: a recorded synthetic run, compared point by point to 1e-9.

The expected scores (one gauge series with daily seasonality, spikes, a flat stretch, a shift and a
drift; one counter series with a reset and a rate burst) are quantised to 1e-10 and stored
zlib-compressed; they were first recorded before the hot-path rewrite and re-recorded for the intended
changes of the flat-line decay, the spike member's heavy-tail choice and the refractory period. Also
checked: a snapshot taken by the pre-rewrite code at point 2000 still restores into today's ensemble and
continues with recorded scores (its own recording, since that state was learnt by the older rules), and
today's snapshot only adds keys to that format. Any intended change of the detector must re-record these
values (see `_record`).
"""

from __future__ import annotations

import base64
import json
import struct
import zlib

import numpy as np

from aiops.detectors.ensemble import MetricEnsemble

STEP = 300.0
START = 1_400_000_000.0
TOLERANCE = 1e-9
SNAPSHOT_AT = 2000


def _gauge(n: int = 3000) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(2024)
    ts = START + np.arange(n) * STEP
    values = 50.0 + 10.0 * np.sin(2 * np.pi * ts / 86400.0) + rng.normal(0.0, 1.0, n)
    values[[900, 1400, 2100]] += 20.0
    values[1700:1760] = values[1699]
    values[2300:] += 7.0
    values[2600:2700] += 0.05 * np.arange(100)
    return ts.tolist(), values.tolist()


def _counter(n: int = 1000) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(5)
    rate = 10.0 + rng.normal(0.0, 0.5, n)
    rate[700:705] *= 4.0
    counter = np.cumsum(rate * STEP)
    counter[500:] -= counter[499]
    return (START + np.arange(n) * STEP).tolist(), counter.tolist()


def _run(detector: MetricEnsemble, ts: list[float], values: list[float]) -> list[float]:
    scores = []
    for stamp, value in zip(ts, values, strict=True):
        scores.append(detector.score(stamp, value).score)
        detector.learn(stamp, value)
    return scores


def _unpack(blob: str) -> list[float]:
    raw = zlib.decompress(base64.b64decode(blob))
    return [quantum / 1e10 for quantum in struct.unpack(f"<{len(raw) // 8}q", raw)]


def _record(scores: list[float]) -> str:
    """How the blobs below were made (kept for re-recording after an intended change)."""
    quanta = [round(score * 1e10) for score in scores]
    return base64.b64encode(zlib.compress(struct.pack(f"<{len(quanta)}q", *quanta), 9)).decode()


def _assert_close(actual: list[float], expected: list[float]) -> None:
    assert len(actual) == len(expected)
    worst = max(abs(a - e) for a, e in zip(actual, expected, strict=True))
    assert worst <= TOLERANCE, f"scores moved by up to {worst:.3g}"


def test_gauge_scores_match_recording() -> None:
    ts, values = _gauge()
    scores = _run(MetricEnsemble(), ts, values)
    expected = _unpack(GAUGE_SCORES)
    assert sum(score >= 0.9999 for score in expected) == 7  # the recording does contain alerts
    _assert_close(scores, expected)


def test_counter_scores_match_recording() -> None:
    ts, values = _counter()
    detector = MetricEnsemble()
    _assert_close(_run(detector, ts, values), _unpack(COUNTER_SCORES))
    assert detector.mode == "counter"


def test_old_snapshot_restores_and_continues_identically() -> None:
    state = json.loads(zlib.decompress(base64.b64decode(OLD_SNAPSHOT)))
    restored = MetricEnsemble.restore(state)
    ts, values = _gauge()
    continued = _run(restored, ts[SNAPSHOT_AT:], values[SNAPSHOT_AT:])
    _assert_close(continued, _unpack(OLD_SNAPSHOT_CONTINUED))


ADDED_KEYS = {"since_report", "report_surprise", "log_scale"}
"""Snapshot keys added since `OLD_SNAPSHOT` (refractory period; per-series tail scale)."""


def test_snapshot_format_only_adds_keys() -> None:
    ts, values = _gauge()
    detector = MetricEnsemble()
    _run(detector, ts[:SNAPSHOT_AT], values[:SNAPSHOT_AT])
    old = json.loads(zlib.decompress(base64.b64decode(OLD_SNAPSHOT)))
    assert _without(_shape(json.loads(json.dumps(detector.snapshot()))), ADDED_KEYS) == _shape(old)


def _without(shape: object, keys: set[str]) -> object:
    """`shape` without the given keys at any depth."""
    if isinstance(shape, dict):
        return {key: _without(item, keys) for key, item in shape.items() if key not in keys}
    if isinstance(shape, list):
        return [_without(item, keys) for item in shape]
    return shape


def _shape(value: object) -> object:
    """Keys and value types of a JSON document, recursively (list items by their first element)."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


# --- recordings (see the module docstring) ------------------------------------------------------------

GAUGE_SCORES = (
    "eNrtXHk01l3XNgtJlIiQIiRD5ilRPQqRSJNEpcFQaZCQIlEqKkJI0kQDDWhAg0gSaZAmmSVDkiml9L37sr61bmtZfXrqedf3rHWff651fsP5nXufc/"
    "a+9j773CwszMIszMIszMIszPJ/lao79cqE9zpmeBDuOSZ8iLDgsKcG4UqxEl7CdMv7n1n/gw9NooQJ5W/NWkJouaVpI93vVpYNIBw9PbyK8FZWljzd"
    "n7qQr3ug78pEdU6i+zcSZuZQ/UrdIuCzL4IVhKu8X06h+7oWPT+oPkYvaDlhY3ngXUKFI+wfCP3j1j8lXLCxYjw9n7JuAxfVA1yWGhGKngi6QLilOT"
    "Of7gfyWE+ieoJu18qB+iUXxv6Jsb7dOkyC0N2nZzi+W756PuG4s16SjM/llL0bSmjWEoTnrhutHkaYtiz6LH1X4mme9UDfG2oWMZftP+g2/L0N4bOC"
    "lmmEcv4nlAmvm59WJQxJ8PtI7RQeXy9E9RKf0zeoflQ9oITamTJZMu2fnCfn8maq0ff09mREE+ZzKx1GvXt8OKFvTWwIYYJXRTBh3MTAIMKgkps7CZ"
    "ef/+BHuFt2gy+h/eIvuwjtuD/vJZz2tPIAoYNQONpLGO0dSXjT5/QRwo5vLDGEuWJ5wA5n2VjCr8GswJHJa3H94RBd9K+l2zyK8NWFDPTTrbr6EOFs"
    "9+RQwibuVnw3UkxtN+E5qXD0f9HRHahfO1CL/lq+v/mDcJ/LSLQT0TNjH2HvimzIXzGkYxSNx8LAu41UPz/xBzvVn0wT4iQUTFzcTNcdjbb0EqqaZ7"
    "PRdY/PWV+pvjlUqYtwqK5PG+FetQnVhOUij14QfpsdlEtoZdF4EXLfLYXf6VtXeZDwdGjIVkLxtfoOhJ8u3LYijJIs18B8sTARJXyw8TjWW5nAqNGQ"
    "7yMxrKvvbEZvCd2sy68TvjvbEkb4USralZBz5P7pWBfrr5gRPt2pDX3h5jdxLOH9L/lAIxXuCYQH13wbj/V2v6qGvlN5Tngd1T+5HfAmXHZ11FVCle"
    "uNmwhNQiWWEW6ezIfne2w+1BPyyLwcRnJatcMK41bP/9WacMv02UaEV5VjdTCeD2fhd3IXn8N7q03tFhGu+P5+NiH7THtDwryyY9qE8zVsbAh13rDN"
    "gTwFns3COJjM0yTMeuOuTBguNkkL91eswf2lX84DjfZauxCmi6mjP+x2JjMxH/fyqROON9k8kVCqZIcIoa1dFy/hmOH+n+l3XlQzLIeeFdB+SKgmzl"
    "1L962fzumFHhORbyaU1m2qJdTfEPsc+pdNNR9yzvdFP502s+N6nPjoV4SVpXYPCLUEYpMJL5eqRBBOreCPJtyk57qL8PXmJ2747oRNC/reH2FCuHRq"
    "hibaX3DKAPq7zFiVcLFFlSzheJXS6TQeM5QD8F0+1TnPCIUuzskG5jtdIrTb4Hac8NAcGcyjqgf+gfi9kYUY/wlJr93xfmrnasLakDYHwniTZVivw5"
    "R5I6kuZnBiP2HSqXL027qAazvkY1XsCTsz4t0Gwohr1vg9LglKaE9itDHshILVdnvYteH8JzH/E2XTsX4PmmHe+CV5tmL+CTvAPm3srHlH+PzjhlLC"
    "ooyV9wlHSbfj97mqSKUSBovXnCGUty6IIowxKtxD+LI4GL/vnf8MzPf2bB/M6xp+XR76nkJJHea74hsz9K9hyn0rwmFjLkzFOCdG/oV5HvJlCdUDUz"
    "ZnY55qVB+g+gG2xs2EYXtubKLrX3QEj1JdKSJ5G+HdVn8fum7sswJyl0vcALnV8NoFYzyEwzEfvmwrj8O6j+SPwTjEZq8lnHfsOPqTWyllSOO8ZYk3"
    "fm8guz2eG/OtGON+ONvlNOZX2HjM++kcnxcQfnxkP4pQjUWPnfDI6PrLsE+vtB9ivconY70Z7Ta8BT1YNXwj9GWRmSPhjAJdfejtgA6sIxsVLnHCdQ"
    "ry0Ffj2vZzEk7w18V8f6dXiPnmojl0N2Geiwb0ZP3kHvAAl4oirIe7W6XPYv2UZgYRnhDWxfzhPNi5hnBHvEQ6+MLufc4YNzMhyF9qq/siwpA0mVmE"
    "K+rqFWH3z7tcJhyZFKNDGGvGCr3XvoprHhuTTjILszDLv7D0Tt0F/n32TR74JOfrZa6ELLMO2YKHCncaEDZ/KZECT2XlBa85UD38K+zGArE3sKe2O5"
    "4Qdt5JuUP4gPch9K/d+DbYnccKR1LpvZAYU/CZzHUt4J1KL52hh7V5m08RCh+5Cvv2wTomnJAtYRj8Sx6rObB3i8IUVhEmNmvPg/72+msmYdvu0dDT"
    "K15ZWELvjzSdQlhWFZUInl07Hrzi0i5F8IftijGw577BHBZ036th6hXw2I6sYeCTR9nhr1SyVXDAD3v5RZow+9H2KvBJ0/JMwvfRxeCptfeKIL9lk1"
    "7AP17uJ2IMXnvzmizkWloIub049621z267vCTcqc4B/9d70mX4q+tsa8AvpEPtjxB6vK4Gj/ooNgU8gP3KvhWwT1vXJ8FfXhYMvq6b+gb2y7ihGL//"
    "r896xpDns3Pw51kPOSgQjn0YAP+1ZkX2OMLQW/tFMX4d8QLgGw6NZtRPA0VRyNXZXAT2TjD9LHgqpzXnMfCKYkXYVbb9Lw6DV4y2NaH37nhpFVD9Tq"
    "oi7OU2kfmZkHvcPdjtEqFRGNeFFs1bCcW9Xi4GT+SZgP7WbMyEn6Msk2sOf1J1bQZdP9U14hriElV6eZhf+05bgmeMnQv+Fsy6C7w07JF3JaHqxSnv"
    "IZ+ik4grGFyxRV2iQgXPtRv1JBC++uQL3hZ+tOcR4QVDPzuMw18c4xnXSVjb7IOMdXV/ORb6fs3ZwxOpzts4nZfxfmhhTOFA6+2R9pzUwaxLDo4GX0"
    "JLh7FP4R+L9kgS8j3UBV+x88vuItS70rSPMEi+L46TbB+F+IbaQ+kZiJOId8NPUzrSLkwoItKN+ESrTyJ4W+31EsijO/cBeDPHl5VY/55Onfi9bbxv"
    "IV8JDTfwtnfHa/p42F5P8GTjug1Yv1q9QzC+l85ZYF2XzRoC7PUxO0f4uX0T+KymWBrWsZDHyx2EGm3Z/oQz75pjPkwK2Qg+nz4pADxaeGQn/MEgtX"
    "J8d5E9P8Y/SLAQ/k56Zno81oeSENYNV8dk9DvH3QI82N53JPy16ap78DyviDZ4bda6IPDl+S5d4PHZgXcg70MtyeDFLeNLIOewe7lYXzJBe/rm6Y+e"
    "8/CrzklDDxlVOKK/p4teQk/Nam6FXpyvPB1+zVEXQ8SpFC9vgpwvTFxwj1DguuMN9KN0yEXCm5rC0EfnM8bh9zTlfIb/9s5lE/g75/jV0Af7p8+APy"
    "ncfTgF/kOBF+T7lPMH5M/WchF6RGyNKPTvtNWlaPdqZCb0q+Vi7pPg/wKiJ+CHxcVgHaSsmwS+HTpsGtZr/e7z8Nfv35nsTNe3l6QgXpAZOL0M+ovz"
    "Lfwl9QRv/L4vlvVYP4EsP+DnGodzYd6cdeJtgtwzuDsg150+6P8Iuw7YHalJ27ZD354/MBn2ZqK0DOFoVX340dIhbdCbN4ddQNxCL/cb2rm5ln8lXX"
    "+87AUb4R7vEly/7SJWDx4/3wbz5fHzBPjbLLV8TJ7OLMzCLP/KYvp+DeJZ56qkoYelX6Yh/q/tPga8e8e2JbBv2VyLJyAu7scH+yyZygJ9niRoAF4t"
    "tM8ecTNpjUrs31wJUYZ9mas1ZTbiXy6uiP/dUzyl8Sf67XyqB3EeX+848OXln+5/pOs6WXkhiIu2xSPuWRPTMY3uf1fVAD+UiwsA35UqGQv7cMncE3"
    "HZFd7NsDPJHQ/BLyIcxGGPb/hMAB+umCYAbIkYh3hinYEv+P4J7RTYc9vXpuDPEk5diG97z0mA36BTpjGacM75Xh7C0oIA8Lkj2wzw3jPTaeCD30Q3"
    "w1+Yy1MGvrRV2wRxIuGn92xgb92OQY6jnlxCnHXS9OS5iHOKhS4Ez2ZJgv03yI5APJR7Yxv45g3+SvAdg7CTTrBjguLgcRb3xwN3+Y3CPlKT0WHE4z"
    "MMA03Be51vwQ8am6KI/hjrb8F3l9ZMwPU0rlPgQQmaHOhfw0o+xH3PqCcj3tubbzEc8tXiAn9pMPZFfGyDQwLid9pnuxDXjT6ThPt7JRzB01yV7sLf"
    "OJVSiH49WbsUz7PtWgA+quV5A+N3v8nbEftilRKQw1YNXsRBt00SR/00vwF4aqxziC7GXYxrMnhMuzh49VnfO+A9bdf5ES+NfsChD34jzI7n56d6aG"
    "M8z6dpYZ8hagrQRjUK/OOJ3DPIwz7oJfbvOL+OBc7UWAr0FEwCnqnlisO+Uvty8Jui66MT8TvEbcDHFszLBL/kjvcGv7Rp90Z8lUPQThfviTmAX5mK"
    "jYC/m85xHfPv7HkB7NekVIXchF+kkwL+/2iMHXjbxU+vwc86zRPw3sRlj+FPORkfg7+6f38nxi+Enx38dJPdEvhdd2f4g0e/cLWEP213bGc3fcfknZ"
    "Ai4ZTPrT3gr+zsXFS/Prb+Gvhdg9sDwjMhGfCvstZEziWcqReFfRJ1r1uIv3pMeQO+dTzpG+K6Tx0vQ56x26Ygvjq3+zDW3XadXsSDF7pshv9cL2cB"
    "+Xi6V4FHv7guZE5oVbkM8Vlt89eINx+6aYn9WJ7RX0f9ij7RCuR0/h19FPnCG/tk/1tca4smEy+MmmqNdWzrsg/9zPuYup+Qf/Em6NWtHS8w/hWytZ"
    "jX503UsH/xiI8T818p6jnWk9+txj6/fW8D9CdvhLIgtRMW7YX5LruFE3qneMkQyGHhuReIU5wYaiiN5yuGcUM+8R7PwYfVp0A/fD3YN86aIUaQq1xu"
    "J9YVj5kT1lMT1xLM43OG/oaEXtPrEK9fNsEcz9lpSeB72/m9sY6Kz+xhpd/dOs8f82+MpCLQ88Mo+GnCGnOxzvU85fKwT3aNBfPXglsZdiTQ6jT8cr"
    "3eO6ivZOnTM0t2hsC+CJxUc+7LL3gAfWue6Iu4uo3IKsj5O/tkMWpXeL0t5k3d8vQ67GevjnyN/aCCBdjXVIxP5iA82GYCP0CWcyn8B5W0SOwbZk0U"
    "gX+X7OiJfWqbra/HYB90Wg72cZ34c0Zi/+Dm6Taso/LZyB9wO2tRQ7hecQ3iPY/rdmHfjaPVGPECrk83YGe/XZmNvINjQX3xlnTWvvm9RfaxF8Z/Uz"
    "709drQ4ZgHkWb3ER/St/yMeRCqpYa8Cs1jJ9qxHtMLcH1swiL4nblDX6GdznXlkJsz13mM19Q2cVu02/EW+n568CzER5Lzh0PvTRYVh56Ui89HXEfS"
    "2Rb2qSvHC3kLHNul+uI692RGYP8i4iriOhH51pCnd7JZDmFxoyXkr6exC3pO7HIT7DLb/Hzol1obZ+xT7jbnQPzlSnom5MFS5I31b/g8AvpqSHQs9u"
    "nWcdTBfnyf5Q1742AmgvkYIfRDHr/PPmQk4dEGKxnYm9xixJ2Skz9DH87zmAM7rJsexLhMWe6LZ2I9dhS/uUL4dskdfFewmB/xsY3+8liPy3fyQD5W"
    "nk5CjO9/a6/gY/0NvfFIVBj7fDoRvMNZ/yCvKxIzn/l32vMIkhVgfE/CerLNQO1Mu4+0A5YRvoLIU5l78TIX4/0ht/3V6IEl8QcxPwrGyWLfc8jC07"
    "BTGlUdsEve0bvqwM+MNfFd9THjoJ9aV3dgXQ59+gL7qWsC9MDnJPfUNmJdv1fFOgusYAFPzbjQgnjnrXyrYuhR7gXI92D658zCLMzyby1ZsvPAy6pT"
    "14KvpevLwc8KNXNHXhJrBTd40L4oQ9yvz1D5C/Fd7TLwYCvuMVLga7fskXfDtS8A+vqYJj/80BMGTYjb8pYv5O5n17hEkJeZnHwW9j912E7Yz0k9jb"
    "fp+pK6XvCSFWGB4J0KjQ5K2OfxZx3N2A5XkQH47Yujwr8lh105vC3YtzGaijxG08dsWbAnEsfAMyp2q8YS+kw1hN1mi+CBfy4dq70UcWitrfCfZS5x"
    "gU/fP/oW+4sJH1Nn9vErLdj3nPGf4Lfz2L2C3Ay7VdHxOI4q+BOeeyYAg0pP8IHnRcv0My87xvFLDNT/zLQxjv8f5lPos43hv8ILMo9E4fcasHFY/u"
    "y9kSdbr/xJ/vI14Mfen7Unu9Z152Dake/uKaJ2bp/SwL5r2NCVyJ86IPYFvKQpfRrmhdTkNOxbur2eKUfXnXO/Yf1InbSfCl4SPQ3raqoOC+ICCzJj"
    "V8E/tQ3DPg7rejkfzKuhO8Hjn88zxP6EicBL8HI5CbFQzI+USvgjw7uaUPcQKIA/lFp2GHl+YZbWffG3qO3w+xs8Y8Dzt5iMA69P+5GI+MAby9fYl1"
    "Ntewj9EJxUi3iOs9KaOeCTt5YiHrSu3h18WYSzBTy2Zb4F6j7b2bB+71UnwX9MLzaxpol840Yu9pc7DoghLnYzT1IaebcjVvATlp4yhr8xc6ypEsYn"
    "MpoFC+C0I973W8jO5FvMwizMwiz/pB2fUtxB+jfW5yT20Z94fQfPkV9ehviWpMxRxJ/s1HpeDaa92/NLkUdQ8HnDh589V6B+CvvnOSPvBBJa6CuI/h"
    "27H7lJIGQw7zlGXJ35s/vVunMPM9YX38569jty7bixs5ixX/u0/LwY620H0pEHFV0qhThhwDROxB1nZeU1IT+/vnUdob+Y8uLf6Yen+4xB5fNoTjyZ"
    "+Sd4l5JOhduf5G98MX35cEnzLiCfYmaa5ZCBnitxr0D87vj+caH95regPGhEt9uBOMbrsc29GO+YMQFyjNdd94mBd6lpPMf5p02FoeMIy1YLIc9nSv"
    "yK633nKVgbftbvlMQQxA8LX3zFvlmLw8Gf8vbqtiCcc2h8d7t9MHLZXtK0ilHOZzQ3xeN8SPd9iYHkb9OVF/qz9pKzdsABGabZ+oze54jPx3zIfDKk"
    "AfmBDh8gyDcZGkDV6jxRwpoMM/DiroPfkef/0TgO+XjT4mJwvoWl6gjyeAoVbsHvelhyYAi9x1/ug/NIj54PR94iB88aAcJIJ0ucWzIqOMpHKFts85"
    "3emzgvLAVx1SyhO4iz75NajLi5STLi+r0Lo7F/meTxCnl+E8vdkM/pUhaKc15rbXWRD2VvFIT4YvOKVf14f3NLqPN/Q9/6Jb2d+Cfbmxqe28s43pne"
    "5WsH857Bulmuv7JO12uJnP476/rJmXvYp7thbNI00H1ftbjUwbS7Zn6q1WCei2Nt72SsP9RkU6D3zMJWYh/E5ftQU8b7ic6jEN9nxneZhVmY5d9anC"
    "6E30Tcp1z8LfJlhvKvRj50suzjn72nrsOPfWQt0VcLGK+rhFj247+Nq/0RHxbfnYe4z+1v9YsGau9d7cbf4s2999hVBvMcu9oP8X9Cjru1loInLo2T"
    "eTTQ/atGd5FP0yZ/Wp3qXLYLigjza5j2g1mYhVn+neVUjwn83m9DVJBfpSb/CnmuWxIMkX/7xPQe8gWLdpTiXEpamhL2E3K4dfDcm5hCvGc30h7nnl"
    "fqHDIhfeiS6ww/Tf/TUeRnavQqIp9obfco7Hc4pVTDPz582Av7ChKnMuAnK6gZwt6MbVyMeJRSz3agbrEjzss/m3sH+UbOrLbIh3TfoIL9uLVPI2E/"
    "KhybkK8mPNcE+4jJvhyChAKh24f+jpxO2kWmsv4D8q+uD+gXnzL3WO7H+l8c/8rad4iHLDqIvzVhabvhgTyrC3t4EU9o8CyHX2+7KLj+v9GfAxc6sB"
    "8bLRiuzHg9PPxWP/9WvKtej/Ce+xjkm62XTDT5le+MnjdMklHODi/LJw8k92GzwxGPuNIsg/nz4Vrf/GK30OoXV4mWdkdeu7umMvKWmvf59juXV30u"
    "ewhj+866WshT7D14InKg/m2qz7DC+c4rpnYD9aty/xFVxnrVzPkaf3IcbDc+TxjMc+kbI2dQ/6I5nDWpv00877oY+1vo47KCsZ541TH1T/YzrOvh+o"
    "Hk0xisn8lYb1jX0In/eThd8KQf7xRYhn1J13eSyxmv79cUePDf1MPi8bFtv/K8sLGkPOPvXuRhbf4n9cbC5wWTBvPcpNnLq//E95SL9yPPVSBIUn2g"
    "+1V1TjmDaefQcW/Hn8nh2q1IXUa+fldgvNGv9DN9qxn2Q14ErEScfmeYIeKQy29r4dz03bxg5KtcOXkZ61P75sqEvvWpADt2KVcX/4ul72KD870ZSX"
    "wCjO3nBMdBr+l7+sFucnv7wd4VzXiF/fmvSqb9/DX7bh6m/8EszMIs/8rCqvDDkLF+bEK7x2De83U99dM4UICZJ/Ks9L3bN/2KXSypPpT4s/uuZcWV"
    "jO2td2rVZ6zLdn7EeaShLBPgD+nIN+EcPVvgTgtC4/fB3Pj/qQIP8Mmp4g44D+Buawqe3cwzdCz0fdA95JPtUd0Gvrn3ew6uf455jnM7flleeO+TnC"
    "g/YVctB/4/IXS+PuyJ9KglyG+fld/ADj9v806cu1F8W428Q5Uxi5CvKZLDAVR/8IT9Z79bScd/NtmZuXtlff4kz0jzKdL7O+9Jdy5BHuInb/Wgf9Jf"
    "uub6eMOvtO9k5xc/0PWgva2CjHb6uJOnBdXTNuzFuRyuGNkwwpVLL+G8W8aUS0+QBxAsiXOzvE/WDzgv77TwqjD2b3nXQfzPYPc6UZyrKm32EfmV/j"
    "/ldsH/xjg/tuvnT+SofwF/YfvrU7/rVl9k8P+idQY/sN87sZQP52zeWTaA30iFBuJc2rXeQmBa/iXkNTTNTumX5/qcfw4n4RCB+n7n7hTZm3AO84ee"
    "idVg+p+xqugR9d/QBscUWRRyH8Uw3v9r+VULRnm8PHUT899E7C544NoyO/yvzuEKF+z7/w8btur7"
)

COUNTER_SCORES = (
    "eNrt2H9UzWccB/BuhJtKiWRdFdOILocoudtuNBUVSSpKo9htP9rqWi36wfxqVPRDySibDkVMcqKk/AolEktW+dEqKVMqKVayvd/7Z384O9qxnbOz+/"
    "zzOs/3eb7P9/nxeZ57v18lJUVSJEVSJEVSJEX6r6cm19jNgt/VVgt36819KneHOsCDxdF6sGWbTE/wp/K0Nbqtr9NOpc+BbNglVvPH/QEWmpUwvfzC"
    "I8Er6t/dkLQb1+eFLnoi+BvjPTNqcRoUdSf+8Ff3a7a5WCj/rlpYwqK/qhdwvXsU9Btk9vTvzP/R1a2eaL/VdnMGnBsmmI3rYZGuLsgbtlm396a9nO"
    "aZQljVX6UT9+/Zm6wJA/ufdYLusoIJKF/nqKf8qnGtTLucBQ1XJ09Bud2sZgPMQ2m5PuOjwqbMDnk93yQa6+swG66OivsATtOdbw07T4yXwGGel0zg"
    "oQqDSXDpp8Lh8PFArQEw/ea2PrCgSUcFlqhIaH1Xcz+ofvIR81cTXTTg9I06WnDKo2gxDGpM0YGfiu21Ybvxy4EwbZO1GqyblSuE6/xk7EeHq7Eq24"
    "+70Ibx5Rt0d8Hxm9MbobFs0kMoCdD4FRr4hiij/po87/7QU+zG5zRW+I+FVUWB5rCisc0SnrvbxvGnb7nFedE68YLzFGgmtofPRu+fA+8nyGxYX8N/"
    "FnzbqZHzp768cAaUbF/9PvxG1Wg6PL2l0BaaOOnMh/vGLnXiPMjjaZm2Eb0WocvyfNGcefDG82A+10ong/24d6ye/dpnsZP9nHkggv2+Hfcux9HhqM"
    "dxrYorGsH1FNlyvOtmXniB+ahuOtEKa7z6NkBTD1uun8Uyd85jpPmVbu5P06ncn1+8+OU+fBwuuQfTvixvh0U9A+qgOLee7W1vkPD+ORaftcD4bM9q"
    "GBenVAJXzdl+BUqNIlge56HK/mz0jO6L538bXTQGTki5OhUu/tluGrQNEDLvJHrEeDG5uWkULLIViuCSoF85Tt+f8t+BLudUWW/5psWMl+L6PpyPTL"
    "kO8w99YjhPCUZZjG8XdyEtSbKWch13lFgx7r2ucn2jarQ434VuVVzntoxw1tP87j7bOSaz4fqeWivnOtw618D+thtZjeO+CJhnDD9fuIFx/FHmA8a3"
    "R62HIRxz5CDrOZa1GHEcfevfhoZbLZm3jMxjXj43nONrzczVZ5zlrGU7n3RUcB4crFdw/kJy0sxg93FT9sde7MH+TbSpZn+rNq3juVj341bO786MBJ"
    "bv11jJcvNEr4mMozAbPm9FpXwIdM/MFkCfSm2u925BzS3oFRH5CyweH8W4WJCz6wFcWlhSD8s1o+jtnq2MJ78Yu5e8XrvnOfdrfHUz/HCc21O4rMWM"
    "8TdEbSXjMtOgkOdMbenwYdBuiJT7WOS0geeQz1t7ea5kZ4fyXJB+f50+sb/OuPJ9HM/nnbmxhufpAD8pz4np53dWwYhTISfhefX39jHupyevhyv0vf"
    "y4H6Q3FsCs5A4JzM14OQ9OOT61B3rfCc2BC/eEXIBWqUH5cLLoTjls/sC6jPtN5fhPcNZlLe6n4JRr3E/W6sHUr+xn7ifVBK/bcFSOPtvZaFmZAtW6"
    "5Au434udGcdOnYWD4eDMkxzfSamoCSYHzv4Rjhybfw4eCq1Ph6k9BYmwLW3vDv4uZDTEwUGdruy3+MiAmzCxxZv7dlFYawfMHCzkeZZxp4FxU5h30R"
    "T6OzpSb53HjKOj4laeb1k97jyviiWxDjB1aDvPM5+mKPa/bG0zrXNVclZW/H1TJEVSpP9gemBfHAsn66sE8MILR0dwscbUDLp1170Pq9eHMj/kyMeL"
    "YLy7ZSDO1V3mJvxf2qd5Yi7yhzWC+Ht/eEMify+bOj7n+e+Y+jIPzt4xiS7bpX2G53qB9DSU5wfznA/p2nWN7wN1AxXnqiIpkiIp0v/5u+BuZ/6unI"
    "rtx/eQqKSzR/lede+TLNgVKXOF4dvuzIS6pRL5H+8xQUv4PpKrK4MPYzLa0F7Klfm2sKbs64GwuHsGvxuOdbio9qrnCw2nObxOPz2cvbXxnBip6Ct4"
    "Onj5IFxXvuS3D4YLRz6DMuPcMSh/khDJ74taSbdH47r6/LTnUO65/8s/fw/bU+A3md8Z8p35fmceMJnvVfqCkRfhCNNjptDV+/A21C/J2xnTm/k1nB"
    "Q1EvdfGd5vd2/ukzQfNsd9blvul/+T679cQ6VV8AbbKzW5Z/Um2onuGOram/q1BUr8HmGf6n/rVeMprf13/+/8Bs55UdA="
)

OLD_SNAPSHOT_CONTINUED = (
    "eNrtmX001GkUx42ZQl4mnU1apexiqUREpBV7aopotVJJIY3KWPRmbawSmyKJGTsb22xvrM6eai3SafS2eVnJS5I2JxSJFb2oNVtb2L5P/zxzzhxnpu"
    "Sczpn7z8d9nvvc3/09v988994fL0lZisogcvLcDmPV19SxfVLHeE3WofIisKhWvRMc4f/QDPO3xTMJrVrL9MF7YrcqzEtS+6LBxy4ie/j7QpTpBF2l"
    "5cBRoNL8wiPoV2/sV8c67eZoJlhdP9oIZGlsYINC7mI90LnioCZoUuPVh3VTlvJPgU3nxlwCTfZOWgmack5+D//9KzJWgMcjGjjEvvnrfJDXmBIHhn"
    "o7rMP8aueEkWD32nVx9P13P0oJVhkGiT3eNGUo/c0VlPQzKL0oqjlUnnVzwhaGMBS4TrjduGzGW8RX+0vpAHjWhdMlaz7GWpQvj98Ny/I95bETMZ71"
    "0vpVW1VzrHPjB3Gh8/q0XOn5nGA9NvmjTXOpqopSlKIUpXx4wj0hOI9zjt9s0ATmammvB9tPmlwbbJ2NvXYTaKffsJwet9y3uI7WH6zfuRY02F3mBV"
    "581eEjy1972+a6d7mP/lKmpTx2TOsBg/exj7vt/ESgn8i4WtZ8ofNlB+zrU7NsG+gjvZdXgeX3lPlDKUpRyocpWS85qeArdcv9oLVZgwD85ojTD6SO"
    "dy0VglU7bvLBggKLNLBYzZ7Y3c6sJOt8P1q9GwyyT+PgPOSVBJM+zbHnYDzGZ/ZP3QaGPtcLIXnrVOsaMD19mz84MUscAJpbO5F8M/nBSj/Q4uV2Qo"
    "eagNPwV7fkkgv0YIZ3I7hxk+Uc4ve6kOSPOwFdRuDYJZzxpL+NYemC7JTtWu+yT8d8hfmM97D/rR3xC2h9UURgLGMYn//dtvZ00Cf1ALns07MR+8AT"
    "e0ZNxEBnZDPp6719EjuGI579J/7JAzN0BdPpcYHgglR/ayDpmA2Wbpwwg/SphjkcRa4zfqmOIb3P/reaZ8jadx13AfkekddtTN6fh2fevF9MDzup7y"
    "oZRhv/JO+j7XRr2HfvjUmVes6//qFO+w92sBOTuif1qFBWfFs6xJ7wsy/P1VdWXHeTD1jResuCZTOH8jl4b64/Io/d6c3CeYgvgxVsi3i7NNoldLyV"
    "0by1tJ5TGJA/lHHyJVfDZe3Pg0THIlrvDOvshZ1VdkWtVN3JXqON8ZB2w0B6PNmWfWU4z2GDQz89VcR+rIuhGX3fPhFfLRrKc2NFfcU0eeymuQe2Ds"
    "X1ptckt5FzOsHQRtZ8y31usTx+0g5HBQy2D2cuCB3oev0y+1NnReI8/a1bA/hXfFAYrhPHdyLfIQMv2t0i/soSfwTzjv1Ofp+zzgcdefP7NCd5LLfE"
    "oQB05HmFgeLjmmzaf3GiiJxrjpGxJG+qRcWSfFc1ryEI/M/CVapfW/1cQ9l/KEUpSvkghWE+4ETrP5s+i5BnXUxI1qDfgeLdImeRczTq2RZF8uKN1r"
    "ScweZDGmvu0v7CuU8cad2k93E7qKViSvohe7Ou30DVXXEeoMvfiWqwL6yIIPXkXAP/MaRu9HYldXa3htZkct4nlH4C7rH6jtSbSX3FZPzfzHpdrI89"
    "t42s6/lMXxuUtLF0wJRljiSfGOmtugcuLO9kkj5va1w2OLWpVRO0nOCjBo4rZhHaXKllDnbfFvY73ZFnliSZRA9lnVEQXTX7bdYZ9a4SII6eKJuE99"
    "kvnQm5tkkR/1zf2EOyxhOSnujSefowN9IDesGmpBb4H5lpwgeD/HJngeLPc2vBnYmGpuCo2nCZ7+WlR6Ms6fgCJanu0J+H6XtCv9kdPU6R+K+r8dJg"
    "H3zNV6qfKLZ5QeoX1fk9UuOeL4xHg/fnDJD/9065qbkBbF/cSeqbSSm7tpJ97K8kLCjPXQl2uZ+aSPup1/5yBKjO7tCjx6cyu+aBA7M5nvLEL15XVY"
    "34nbySiW5eUp1Jz88PLPSg9+NW1nny/nM+vkzqwNBGXxaeS/odng74P6141Us="
)

OLD_SNAPSHOT = (
    "eNrFVu1uGzcQfBXDv5XDfpLLvooRGFf5lByqSKru5BYI/O6dpZwiSQFb7Z8aMCAtqeXOcHaWX+/H/XReH5fL+XSel+n+lzu1oXiYq1or7iU2d/"
    "fb45fT8TAd1gUbvt4/nefd2j9tj5dDfhIiwr5lHdepL+zGJePmAzvX2txaROWGTZ/G0+MWuc65kwavSlaEozmJ6rcdyxaVZYYhSm0cps7u6pbH"
    "7I9/YMlpaAg1q6xOzfUFa+s473sFv47r9jM+PXxEdPpzOy1LP4/xdTev6/SEr+v5MuH775fxsM79PB0KaZNiHqU5x0sm3e3HdT8fprcx74+HT9"
    "OyPp4vB3wvKE6IW4BFKhpl+sC5/3SenufjJYsxHoiKV4si1ZTZsX6eTtOIJNesNBDYa5UqRXBTJMs9/QT693h34375CTBO6BiXaVyOh3H/zr3O"
    "ZyDsOmCj178h9+zH7xc8a74uHHe7ZepikIEre/UW1Yt0ZZ3Ox921joc2KNXC5sWgmIAQGOogq00CGSMKC2I8tCIUGkmtFuiBZSiqSgqhNMZ2RU"
    "wHtdLYqjXlVvo+HwhXUZVDtYLzHjLjJh5CDvX1WBkooRkJ6mmvoVIgioJ2YCJpPVSR26iFl6Zhr6EgQTbOn9aCWB1YsV5VRaJKue6D1iF5UCRB"
    "eevYRhwF0qtWXU3jeqgysoSYW/LW64WqnKUBE7uWK6pSmTTUrHC2GBtUA8glqpkltE4I1lojEyYxZu3EoX4tblo9SK3Ty1YIhaBCz87b3DW0hF"
    "O4Rg0nULe5iwEsq7AbobeBenMHoIGsgF9wVVAtDi2DtKAGlAZuLcGjWmPE2MMFpgB2FS0ujaJVgXQMfrG5E1DZ8tZBo0hGeChGbEDuSiyRQKEP"
    "Cw4J9IVWwdmbuw80gOmo4K1SAfzOUkbxYygLyYCN0ZI9ariBQlIqUKSmao8WagVHVZQDZlsmQK+Ccg1RBzpivsZYLZmDGAssTHtQ3FvtRXoVHN"
    "iDKtC9VazVVJ/3c1AkXLaiXG1ojdeSFG6hlUVhm7VfC2VvZD24OxDgLhmDoVIKruGWQZYkbQyJwbsyXNNZk16p8HFrKSLC5WxgqobKuF8q0CQW"
    "NAI6iCAhMbRb5X6jouggR36UkoTVAcWKC4SETXBmT7f55tXAo2gKCgFDAa6zw5/nZe628GAo8P/6Tw30//ivOT7e5LaV3E0cg5NxJf72rEGbgl"
    "14WYXqMRzlasSf352u++l5yjqsDVjDbcMu4THy3V34ABeC11Us4gzhm8qHNQb0g1ZB75mU92aloGXSTRuzMNdr/af5t+nG+rMtML8xDtBF0hvt"
    "bwQ5HMEKJkC2JezhtvkO920FJZWijboC30aAdsJP0HCRLdcRPI/neTxsbxj31zJLS1dApfA0N7thyC+fj+e1/xgzHQZd0kMV0+/GN4zAmAkdBo"
    "fBMyU78y2U6XJpaBg58F6U+tJh/oTsy/EpN+P1dfk03ffA4bge+6vn27vhNJ2XeVmnKzn5/rKWSc3xEqvtxx2P7+AAMbBcS+2mQQHJ2zBkgO/h"
    "Wl1qzpCITtZ3VD/8+PL4J/PdrOYsrT97M6eUl78AP2ujpg=="
)
