"""The default ensemble's scores do not move: a recorded synthetic run, compared point by point to 1e-9.

The expected scores (one gauge series with daily seasonality, spikes, a flat stretch, a shift and a
drift; one counter series with a reset and a rate burst) are quantised to 1e-10 and stored
zlib-compressed; they were first recorded before the hot-path rewrite and re-recorded for the intended
changes of the flat-line decay, the spike member's heavy-tail choice, the refractory period, the
sustained term's wider tail fit (`SUSTAINED_FIT_FRACTION`) and the drift and shift members' confirmation
(`DRIFT_CONFIRM_POINTS`, `SHIFT_CONFIRM_POINTS`). Also checked: a snapshot taken by the
pre-rewrite code at point 2000 still restores into today's ensemble and continues with recorded scores
(its own recording, since that state was learnt by the older rules), and today's snapshot only adds keys
to that format. Any intended change of the detector must re-record these
values (see `_record`).
"""

from __future__ import annotations

import base64
import json
import struct
import zlib

import numpy as np

from aiops.detectors.metric.ensemble import MetricEnsemble
from aiops.detectors.metric.seasonal import _ADDED_FIELDS as _SEASONAL_ADDED

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


ADDED_KEYS = {"since_report", "report_surprise", "log_scale", "recent", "increased"} | set(_SEASONAL_ADDED)
"""Snapshot keys added since `OLD_SNAPSHOT` (refractory period; per-series tail scale; drift/level confirmation;
the seasonal member's readiness count and weekly correction; the counter probe's rise)."""


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
    "eNrtnHk0V1vYx5GQqUiiogkRFaHIkCYyJpQylESZiUoZMlQylKn8RESGlNJtoFumNJLxitIgiaLiliTV1fC+z9c/v7uWt+V2u3e9d63f/ueznnPO3mef"
    "PT7Ps/c+bGyswAqswAqswAqs8KNBjfOgLzHwEQMsMCn/wP6/FIg8Ctn49EhJkitFjD6QzOu1AjSsMgP3y6wGF67h+0gc89gG8ohrUywpnkPSdPCGlww4"
    "fbkcGDJZAWzpnw1q1CqBjGwV8G3AfNDQYgGYJa8FGr01MCe+rDUG9542BadEmoPbu4sqiCdTFcYST8xVBI+XK4OZNvPBo28XgElh2mD8xMVg1NllYOgy"
    "fXDnQyPwqa+tEvHwIzvQZKEDyJG5GczfkHSSKBQzLoK+f0OzOHhBThLkN0hYyfG/dBvzwpzYUPl6MXFGSMZs4iXDbEXigWPBbyid6nRPYZIb/bMvk5yi"
    "vLuR0tFSksz/kXrOchNzIx55MAn8fUvyRuLJzqPgZttMMPeW3lx637vP5cn4ztsLE4i5l+YfIio15kcTDdoGIomeJ7P2ESVvtu4mdiwWDiXeLuPehXr9"
    "oulPjFiSC1nObX0IsSxLGs+33rTeQxTT59pLHCszyC1yMbieZVWL5x6GpSHdwmRhxNda/wbpLU4TCyB+7ErfQYyx6tqK9PUeexE3Wui5EZ0PFG0m1jY3"
    "4rkjzlMgC6QcXI/vfFHyDbLtSx/itxAOF+LXjVdR/vIH+kSpPtbsvfaK5FMzv40guX6x8EiiUI5VN12309n+lahoeJWDrm/7UPwHycr11a3EuZ8Cm4nt"
    "Er/cJj54eq+EKKL4NQflNLkxljiQvQf5HNs514MYpj7Yvle/Cp+P75HKmkE85GQ+ijir0PkV1d9t73QFkrOFlbpIPrBUuo6YGF2ZS7TU5ttDTGm8b030"
    "61g3l+hhs4qHKF1SMfqvtKvt5U/b2ZnktWrnNqH9XxS9ONTzW5X48PyA+e+dxFFS9wWpnDYFmcahPjmT+dCfEqR76PmVJavbiRK6AlVE7rpcxHtbteE1"
    "yY/cNj0njj7XVENcWmv1K3G1ymB5TQj3MSRWaXV20HWu3ENmJHeNOQyG1YeIESs2Oi1Hu7lqIU3UiTRD/fMl5aB/R+qrKBKtQzpmE9XvFM4imomeQXk/"
    "ci2RR30odszEuPVFGgw/5ieHep/I/Qz5Tq7GeyoSfXSJ0SMtlhKfB3eDe919lxHrN5rpE3kCPEEFveYlGMe4yrQxvtmPXYD2OVCrSpwZ1YV82nzcgPwt"
    "dZdHfgbCC2RA4expKN/kXozn194xJhLt9aLw/afEbo/D+Dzn3hKqjyo1CSeSy+VmrSGe7h+L94dPZSD9QwJXEW+B8+URg+Vw5A2V7xQzv2aiRaBDJdHt"
    "k91lYhWf90limu6GRLT7npxrJN/1mHGeWNJWmIH6yVp3iHj9Pd8+jHfTgrcTq0dN2kyUjW9aQzx+Rt+I+K06ZxHx5hiBTIw7OdIFxIRYAzXk8/yI3+h+"
    "40ORJsSz4rhBLL3Jg/fu1FI4hvydyksmZkQciyR6n5wVSDST78d42d7VYUPUFskxJsZrrNEh5icXov+0C6ijHybZKyxDfs3ScF3CV3UK5s2SxYJEjRwG"
    "6nde5XIFkvee2XoV885khQ0kz4hoX4r0wy9jHOJXTnAnOTvrBL73Wk8IxlP/cYoYr3dYbrcg3hsZuRb92MsomPjU/YsH8e3GHhdin9M+TWJv1ihJ4o3W"
    "ydpUz9JRWqEkv5Q6iPKd9LnuLr5TytyHeC5+uh69bwnnB8y/b2ptRYnzl11GeR4W7zyH+enB/Crk120t2r3OPu1S4kolLwe0N81YTeJFUyMRooS7Lz/6"
    "g0fCW0rnsvJRtJ/NevEPid3Ty4+ifpy3LWceP265qNygeJ1KA9ORH499GMcKMvwXENPzOiYQo2+u42GOF5QmUfBXxrVpp1zOEcW8pMWILU36osR3m7gs"
    "OFhqIyuwAiv8B4PN6ibMK2Exd6D/bnzOsIE+dIgb+lDDgWqM9+/ddKBnlM+0g36R/VYG+o5pVDT0I/eyGOgRQrnToAdw92sLIx3JZozrv8kdvkDM0Z4P"
    "/eNJ9fzJeN/ISjyveeQ5np8hECpAjOuJHAP77rYJOP3DBPBxzuvRsAMkboOSeSfBM06TBYkFeiV4X3pyEPTG5qeJ0KPFnffivcfCXkLvmWshMIUYGMFp"
    "TLywzG4q8Zc2QVni5pQRgbBHOJ5wwg67/2kq8WrtrqfQu/VbiqDXt+WnE/tK2PcT1YzX+CKe3Bt7ou6p9ybQh0yaoX/Mit+AecrUNBf55VxZ2wf9uL3v"
    "PtG2SKYI+mu0EOYn85kBh6HHG5+B/jFnKpcj9PgdnieImTFjoCfEmLUYEkPtmjWIop5H5Yhxn+3FiQbHt/Ey17tOTMKQ7SFm/SsD6LNNV6aT3J9vIUIU"
    "Kjj5lTjSbCTm4ScthQ7QI0yyoS98EV8F/VWv5lkx/AS5GnGwH1bWHiGq1FfFEmXEhb2JsQtfroZfQPjVfCIn92oJ6E3eRbAzZ0vdgJ7enTcV8b9uOZkI"
    "ffF8yRWUR1Q2yrU7ddRtlMtDd5TXasNU6P1LfGRhHwS5qEKvXMxhCbl4qiGei3NSQr43hXVDjzqYMlDLBr3cUn2oconvNYpllpVDZrDR+5uEFnEP9Xx0"
    "dXL1UNdr56+4MJx+ycn5EvVtsn7KHXrPerEB9K87qR7QO6yDr/bDjiueqUd0ytMcT1w+sYVvOOn3+OdAb3t2qbHhT+/95OhK1xNFBZSgH/I+hp0koeLm"
    "DbtmFwfqoelyL/Rw30dToH/zV5+HvrX1jYsa0V0rdRKxwtBuWOpRiTzDmbivpLaN6KzbAI4TeQ97UGZNM2S2p62g17hc2IHy+kavB/OdCj+T2a3ab8Td"
    "IVzclF/bQBGMYzv5StHvneyVoI9+uVQG+033j8h5GHe0cjVwPUNFB+2KRwv2V39CA8a/X2ZxoT3OaN+7gtjbvxv25IcTY6AHDzR5oD0e3a+N+6tnL4Fd"
    "0/rbTguUW8cL2Hmr1PPgT7k4QkyC+FnJmAf2WqgTxoGWybueon6dj8BO564sL0V/Oz44LuxfshTfKbdUoYT4imt/HtHBQRb6aeWXqnTixojX8fDnbGmJ"
    "Jh7zF9lLPHvwWQD8PlajUH+l3HJbiGc8FMQxHpdz43lJ3x3hxPIyJWf4ww7/Cvv9wYZmcAT/Przv9TWpU8SQ+sxs2C9s31qgv1v0XyUqhZZVEO00k9HO"
    "dF44YJwba90XQ+lOVgiA36YrcdDuPDtWAuO25xttjDcVBiN7iafPHEc7lBkjBnuyxF3AEfVyJwh+jYX1to8xPviGo9y23MvG+89feTDY357xsfR0VmAF"
    "VvhPBv0XTvBnpYeWHYBfh7tlB5HDo3Er9B9GCfSYq1xW0HOLLx7CfBpUJA4/lYzGDeg1DyzaOeFXSdKCfP7A7IR/Mt/OWQN20LP9UqEv278th19HrfgW"
    "vuOX3rRu6H3JfYvpfkb/NUXm+JMbp2B+OGvoi3n65XR2zD9nI4vxvfb3d8pDb2vyBPnvqKsSZ8Xx8f+M/B8O0HRmlj+LbTVm9m+/YmuF/29q6HNw9Ygu"
    "MGpPD3hlZD/4LmwA1GU7cZO4JoLLhBjJyw8WRQmB3fzjwUnRk0DD0dNAV1dZ+BOFzymA7gZLJhFlnfXA6/yN0LsPtt4H7fIfg/LhbWCfdSdYNKcbDBrx"
    "FvxaYQy7yi1TGvN0XNB06NNb1h+D/66/dHA+9xW1hv7Ms7XmEubvfbY50Cvu80MfrHdfh+c/Rc+Bf/di7w3c71m+E/cz7+lDn7Cw+RRGjAgeQPsVahoF"
    "f2roBnE7YtJyDfjv2p/dgX1wMrAM9s9Z42vr4Q9u+rYO+dSyAB2cH0L/LJzWbo74S46hnM0VE6EvtDVzI71WpTnwi24z/YB2o27lqAu/cqmbFvzAz7hS"
    "Kf9/vLOHfnF8d4Y/0fFFEvyl6tny6EeZ9QIriP6ropZA7xSyVqd4db7GeI9JWIYpvv9dF9I/eWo01m+2W/B7ktyp/9oe+syTW5bEOxGByHdT+Gx96F32"
    "1guhX7loz4Oeo3tlFtSXbf1S0PO/lSH+lQoeyE2uJqg366OhH6HPdgjDzx+Q9BvqwXGW4gDx0pTOX7G+8NIN60xvthjxYh3vrTjWCV7N13qH994tgp6W"
    "/ckF64r6SmfhHxdsXYV6EEzMwzpwQP1X1M8uta/Qj4327EZ93NHkx7gy7t7escz9xrR10O79u2He3pHOfyc+o8nPlDkfrs9qlJj1wlUuUcjnrTcXYM+L"
    "M5pgX7kd1lAaTvrBpa8OM8u8CbOFhvru5w1PNb6XTlzatrvM8f6IHazn/ysYLObDOsV0r+XHsV7hbgyWupiBPE6W4EpHG7DueDg7fbfSx+hf0L7aR3US"
    "73sIgrc/CYMLfGfconx4PSzGOP24biXWFe2MxF+i3y3kx3OBKipYd1tnvx922WP7MbDT/pAvbkV/4t3/BO0iNQDjyZcRShNgn9n0oZ9+ybBFulqbGQ/p"
    "umClJdZhmw/uwvi2fbMy7JPrd6vgN5mTz8C6YfHM8bDvLi09g3WoX5NbYeclLr4eTGwTOIJ1LT2JMC5inmzOJ6xnzPz8gugp74T01qalw36IDo25g/Jp"
    "DsJ418kTUYhyPXsc66Uyj+/BH8ErLwI7KWvFVayvvH/thXmYYVAO/5DQgkA8v+aIKp5XPZqB/qW9yvYg1onqnXZhnrK8jPHlj7GmGMf68iSx3uNr5I1+"
    "/0VZDesNNTvcOf9Ou5+WcBF+nYQKM06iX57BdZRHzhf4j3K3zsG4qTSnEP33/pukGWgX5s5Yp8w9+9EJ89FOB/hP8tVW2GJ+9ClDfqs9liO/zQwF0eHk"
    "Z5Y62zRmOS/vQ+73ni+fWIT+2Ff36Dza44JerAPJn/kA/5F4lOp316k/v3vC93fGn1qxcX7QWxJ4x7D/RP2oZoKh3o+kty1MejRzPAkzJfMfSYfnSshc"
    "Ggds0mINvhffL2nPc/hHFqnivcqTpmF8iq2RTKH7KRVXsT4rFZ2BftA4owXzeohIGObFdy2O8E+G39yKdUf+ks3wa5zitmSws+xzVmAFVvgPB/ZjIhjX"
    "3upNAFtfTwajDbzW0vhWoikP+VS7IpgUOQ8MU9IEfe4vAu2C9EAjGWNQrcYMzNDsyhy0Nwogb/+1EPzMNR77dNZy3oJcmVsFKgy8ukLXPUycpaG/cn8U"
    "/F7+uWo0E39GOey5zvua3puqsxD7GBdI3cY+Hs8Zv8N+6uq9pwz7k61BYDjplac8fvRP1FfQNAGJoa4X5U+y+//QnqIbvA/+lfm86HAi9C5NDk6T78UT"
    "yew5/zP1lz92f4v8XnrS7q6hw0lH9uNADaVzJUsF667x/I7wc8RM+DSkXuL2UG8G8/XJmbYLh3rOsujIJubr7J4zYNeX84diPe+uhTbWDzQVYwL/1D7O"
    "tD7/03fqXoUdeKH5ENaP4k3MGn9G+amVrrs5nOfuiC2EHVNQp2tG/eqVtx7kt2mG4PvqFYP8ZA72yqwZtHum6GOdno2RxAb9KtsO8YPXjGDpW6zACqzA"
    "Cj8xPNlyDvt3D9yeAj9QtFZdH84X+GdiHb2BkQG/rqx9M/xbklIp8D9Zzx14MJz0r6y+B/9s5Yctv3/vuUrlrPHwl4mU4fyEsYac2I/M+wyf0QeGE88u"
    "4aLe9+63qa88xCxbXSlu+Dvl3Hc5tI45X1Hzgncyy70xBVg3Sbo3GX7C3YtHwl+0vPhWF/ZhdPbgHEXIhNlWfycfvl5Lh7WfR3VmZtHP0LtmqT1x+5n6"
    "G1+yPPZ/nLA4jf0UevkmPN97fuaFsSivuRrioPp1SfCjW0wqcWmDHGR96zmgUbsKuMJ1AegaNQF611yVuzj/5FMdPY3YvFkY+3y00jZewn4/XXb4lz+M"
    "8YLfzdJpG1hwxQ8cOz4Y9PTYC1bejASnS8SCAVsTwIaqZNC0wlEK6xwdV+CH7ZmtiX1kuiKLwKRPy8CuFgNwV2MX9MZ9Jy0gH1f1SSP54Mdy7Nthf3ZZ"
    "BfpbxhXQvP/WoD9Ysgryg+bfQMEj98C84iAp+j5B1Z4G7PtLq0B7KKrneUkcuf53Wbr/qFAFVGy7JUZsLzSAXtwf+wX7/N8sSsX+qsWpydiPyfb0MOyr"
    "arlS2F1VjTE8FE+gxR/nkWrvjsG+Rc5RTqOJDAcTnFvSqUzhw37/OvMv2H9kEX8G+yuLhcuI0lGTrYZqZye2PcA+v5ktbtjP6dIcjXNY7qvUcc7HVieM"
    "i9i9cdOf9P7u19HO/8b4G3zi8cyfmd7Cgze+MpdDkV+L+3DiaXosd/0r/dRz3vjsH+nX9cdvYr/b5UW6XUPdD5ybemE46TqtvmA6nOdS2d+9Z5arVDlw"
    "nskg3hH7QV2+8Osz389xFh30y7P8u6zACqzwHw0Opw/iXG58y8TH2I/EL4DzEh150jhPGNERjPXShNIw8BhjP6isJoB15cu6hyGrr7LGPpg5B0yg/3p2"
    "OkIOV3QF03d6gTW1Ubhvw4gFbxpaQd/f07YOXLhzI9hsVYjzcjIvS0F33+vguZEVYO/BalBpWj0YEleK/be/rLgOPhSoADmqq0HZyHrQcPk90I3rEWiR"
    "5VBPNPFyBnU1PUANHh9wdqMvKJkeAPK7hYAf5oeBrSOiwPK6GHBdqhT22ztxn8O+ceVbF8GLOtewn6ZiyTXIXKsssZ+/op01f7ACK7DCfzP8vmcT9ON3"
    "ylzYF6EvW7OTuO/3QfrUeGNdYuFmBlg4RgX7g+zsv4EcHFk4vxF7Y5COanG6NB663HCGnTavowXXj3JsQ/xXBs6wU7w/LcB7hX0asM8nUasRnMRzF5RP"
    "KbAjvt50EVSvs8N5ed9HCtjX48y+CvshuzanaRMX6AniHLtVuQv2Hx47UTkRzwUcwH6/J6K80PdLYnf9kJsi05pxgf0fKP+2zt1/8k8ZbrMPZv8X67/1"
    "WQf8X2tjD+O1vZe3Yf/z6XBe+BNe+rbArl+1NqLz38hPzOm+80NdD522lvd78RKD/HFuqLt78D8MOlZhYMqTTLST8aknwFirPFDcQhDn1rbvMEX7XH+/"
    "BftNN0tZQ7b1swMFjQ7CH6Er4wpZLcALlLuzDRST9QeTpnqVE71UZ2PfUndUIPxJNfG6aH9tuVdxnio3ygyys/o87N/7GpvBIPYHO+C6Y6AL6NNZaIrz"
    "nef1rfGfEe8AXJfyDAUPuYaDnE7RoHJUAfY3qX0uBDXdy8CFLTfBRSuqwGzRDfjvyOc6G+vB/mMP3v+2GbyZ6A6u8r6L/02klO+AbLEuajH0oAlxoHgT"
    "AyzwZuA8WhKnsyrlt2tURz/2+VquR3+r9nfZiHO8Nq6Qcy7awS8Zv8F39M9oL/H9VZ5D9ZdXERpFzPJLj5fvcS42u7Ke+frX0Rtwrte1Q9Ke+fp+1dG3"
    "/81xeGLakd6/8vy4RZKyf/qfzTYzw585bqy5W6kwnOcUjOzbfsb7Ztftf0YcHSapPNT9p88drg8nnbh0P7vvlcOvpQz1ofR1gxuH8b8hR500/AfLbyQP"
    "zkMuE+UHBWaMAevni4BNux3hp1+xdhLkUS5TwFI/KdArShacnKIAVp5WBLeUqIAitWpgfosm+O3QIpzLnqWyDLRsWA4GeBuBqUKmYNFZc7BxhSVo+3EU"
    "y/5gBVZghf9kOK28AnrQBDULMExzLdijsw60XLYRtClwxDmTrekuYFSUJ3h0+1ZQungtzlckvLMFOeTtQQ2/d/iPiFMQF/S08hY+UEpbCAxKFQUffp4I"
    "NrbF4XxYZJEM5NYJCqCKnxLo2lzXyjy/eDr0aDDL0u/f4NwIP5sM9p2ryXbhHAvH3lCcY1j0IoJ7qPnJa5W+2nDK60PyXaHvzW8KG7HcxTZV1AbnXZRU"
    "o7DulbU1FOfgBd/sh/yl6gDYdSIaTNzhA84z6Rwy+VlqIUY0z6yMlPb/mXpGvn/Ngh+JN/W9DfYhvvVTDvsn7aVfXX/b8lfSd7AOThvqelhkjxDzPJ3u"
    "4GtMcv6WSOzH4EqWjic6rjuL/yYWap2txz6ACEmcm+Wt98wZKt2y17xzmPNn3x9rhP9MeojhvN+9bv/xfyX/d7hd4n6kPJ1sB/8jJ1dlgfa+tGMtGBa6"
    "H/aGQkwcWHeEAXqdOAKOLkgHT1/NBvVqc8EnD38Bt3fmg7x9l8ELycWwSz+0lIHzp98E68834H8qhZtqavG/v6zHkF+ltIFJCZ3gMvuLOCf7OuwtZEZQ"
    "P6ixYwB0b7bGf3UOPXHBuv//ANOJ2eE="
)

COUNTER_SCORES = (
    "eNrt13841NkeB/AxCjEUpUxLjagUkyJR3TYWGynjVxGlMlFKVzyLtkTIr1Ihalq/k+j2+xK21lj5VZSU/AiJ9HvqSvmRaHb38+6f/WOf+9z2dvd57vPM"
    "+ef1nJkz53u+53zOOZ9hMCRFUiRFUiRFUiTl/700LpePJsezol2+ZL95oWq9v6+XqVdZS/0mv/AhrOMNwSQnsxxy9vpV0D5P6zR5pqnyldQf9NuxLy2V"
    "PuftWfNO6r8Yn/qI4Py/+/3hwVMqzN9khRxd8588Z8fYBf1/ZhzbstfdJXutYi/Sc2xDpKypHhLnvJrqnLff9v2Zfsd6R8ym32ecSB9HBsqWOXzOfB12"
    "qWbT+zPZmWok1/D6RHKv3vLlpLDnmC0pb3rZnlx656kDWVC21ZE0C+2BD9pq4HaLdKj9/AraNfjk2pFfj2KsIG8O9nxDnnnstoAcqK6cQu5+dBnPZ1bp"
    "o57ACpIiBZG7J5OPzJaMJsXxjYP0fgF5/Q/IuLWRP5Pjkm5lkInswsfkyu5rJaTdMaMs0qKu8Ax5XlT/D9KpQxrqeq1EHK5nxKEfQduhs6Rrq4UA9fWv"
    "IshOjtCXDBkSuWGebTKtyPamj0bk6ddTtck2XjYH63GsXQXrsKBmKrkhUXkzee+eIJc01Q6/S+4yetVD5kSfHEXvF371iAG5MfnVIjKMH2RJ2t2/s4x0"
    "XBdgTbqJfsD6HE8dgqc9k+DmppmwQ6cY7eL6LGGqgGlFKg3NQ3/VHzxMyRYFVQtSJj33WzLieiDaLfYW4ndyPTnob5a80IY8b8rBOjqE82FfqwKPjNQ6"
    "gHUOKvdFnNw9KoalMm6Ig/XLBTBFpQwaZr1Ee/mE6YivmMp4PE+0kYPxbYyYgfHcrY3E+AKe2SJu7FV78D1rWzG+XybNQj3PnbGU3JH0EXFVXOYznZw+"
    "ckuV9ArOYpBbGDk6ZM3A+Gl4XxetGRhfU/gssvEbez3MU2zuHFKv5fhc9JdkgnVZODnBEPO96vx80tP0uBGZEZpojP2ztNWEfJsycSGp2zmMz8utDDCu"
    "6hOB+Hwodg8+H9uVgN9Xyxag3yrD9zOxLg4O2tiHmp0YlzvfEeO66ueC99Lv75lKnhSN08B4H3ZMInsnRWH/GkpdUEA7WSW8d/rqrl8ozvTuswfIaKV7"
    "L8g36cIRcsm5bLR72chAHIYOimRIi4bAMeTUN5/6KzfwVyLHlHLRXqao5D39nhUZ3Etqxhd1kw94lxrJG+zKIuy/Etc6cnfKhRZysrTUDTJBvqyafGrC"
    "hacKdjaRmSkB2Mc3DHywz9NKSytIA9vEctKvVO0cuW8oIRr9emW7k9sd8rGvu5Kne5HGNV41ZA073p+8JhPBI7MKnHRJ/dbSOdj/a2RnYVwNDnCRxzjs"
    "5xlpFWrk37vMlMhmt4hReM728GHa3ld6HO9TPb9gExTuDID3F0fB+YVGYlI0YDRMvu+bLEvztue243jSg8PRJZ94DCJuSpt1zUgX+ZmIbz0LU+wLq05j"
    "7L/+tDDsO/0sj5Wkzc4RWCvswfcfwoWou2Q5oz7fvgv7p3WdAeKN9d5ckzwQ6Id13tk9iHXbqhnXRpYMrv0R8+81OpPUqC5KJscOOleSDcvisE7fL8y/"
    "Ss5jJ+I8+6fKGIz7jWrOv6h+eDUX62e1rOoO+m9iCDFvAbPLSOlRqT+Rm2tN88hI82H0l7M/E/01isSJOGdjLE+Q3iobW8nXCzzgwMNZyBuSd5n2kfXm"
    "Xs9IudyzyBe8/euf4tz1TYFaR98g7ixbtBAP9voTUM8cvw/jy3ZVw/vHaDjeJB25obg/8hlVyB9GcUqu4Pk2I5dI9spLiL8EZZt8clp0yUly0snIo2SV"
    "CusQ7ifFLrxHpNg6G/dHy0zoG+EST4anF+8hz+kGbCPPRr5rJzcFPz+APIp5Pwp5EGtVLPKpQyOBZGhBEvZzfqslzpWJIyXY910p1XLk1o4UafJvU9Iw"
    "Pz7Sn/bRuct7S7EeNZVY3zzuR7yHc4Ei1t1VTq+K9MqKaSD7QlqacU/ppmB+UkOfdJALhde7yNUfGc/JIJ07OE/sGdtFmGflNqxPwgcO4qEuyRz33Brl"
    "ZW9IhQn6iDv/62LIn9CGcyhwSQvufaVKddz361x2MHHOuqnjvEl9xu2ndrFRvuhvX84GxNmc2C0Y180SIeJTI14H58/NKaJOsuiGJc6lx0lMzK/2Xj7u"
    "e6XsCuQHUUutvyebYvkbyGMrN65AXL/LQj4lZ+u8CvEyJR5x6v4wK45U82gOI5XvKXjj3BH549zkObph31RVdAUjD1jP3kSGmYZgXirblTDvyqsLEGfC"
    "hoP1pMkEJvICO5Yd5t9a2gzzr1ErjXjl+RZA5ksnnC8/f3gKH3F9sC8s+PxHpJivhXnOGBZ/RP5iZ494Mb7tjTiRn6SFvM/1xTjcL74mabiXThsW4Z71"
    "XDyIPKDTKxjnjddcddzTW23O8j7dO6twf8/teIH6W8/D+P7HxINoryytg7xBtsYP/fRuy8N5ZvrW2Jy8FuzzNdazMwzPnR1zC/ef3PBFLqlzxRD3YDLP"
    "lUOunTcD42VfSlbG715k4166l2GFePnwYgjn6yImF/fRugnpiHvFRYow1omLefUrzsH677KVqyUr8sIuYP6KxHux/1TFNtjHUgxlxO+04npavqAnMRfJ"
    "8LA7SfS5x1fPoX2BGNqtUMV6u3frQoHsa+SjT37yQ74fECCD8695jKAQv68/jufuX6yI/POrp70453JfWqaRhYYyyD/9yuccQTvvTTgn2yd7oN2ZNXX4"
    "f6TbnXOMfCt4jHMmVLYNcal12RL34g+anHDEyTRPnDMzXTfjPRmPFZyYkr/FkiIpkiIpkvIXleGXw8b4H7DjF9jezzTB/4TdMtCV7zcX+dHgd5AbtxMe"
    "4QTDhKXqQcg7rSNQz38QBRX990NPmUPw3dE45EMs/WTU3coF0N/91He4p+PO1dB4Mip2GKB/oRPye+MAA+QHU6Q0kQdrGOYbIj+zqEZ7jUO1cHfzbdgf"
    "KudOjtmiCOt4o21+/76ceQc1kYeyZVI/Z57atp13Il32P2n6X67HJqXRvVJfsL96vYfmX6Kf+AFV589p/9peG+u2Itev+Y/ep777r813fgX+pmwg"
)

OLD_SNAPSHOT_CONTINUED = (
    "eNrtl3tQlFUUwFlAeS9SI+hY2Daus5A84tUSVOAYAYIDyZKwvFyWxy4tL2NQNgoWwkBBWJhNyR18RDgFRqxgLuZQISEIuCKlBas8WuIpYmz8EZTn9s/n"
    "zDc7H7DgMPOdf3577jn33HPP/fY+9qvbSnQ0SN3Vj3foPiHVdaaX8oT6Ve3NwGaF4RhwQ/QUA+y/y10QHYfatgCH5f5dYFeXLgiBD72lTIi3W1r5Jug6"
    "gyfPAW7aXJsGvfPOCUPoZ6YU6gG7+zbRgPpGieZACXefJdCr47QJkN6zfwH62YaILwIHrj7XAqQf2x4OLPknIh/ic1z8DwAvZNzzQf7K92VAfn+JCChg"
    "uceDPdKrYCNwMjZehJ3/5HQJT2cNJOfCgK02471V3rpIwejNWUoBkX6eyb5JlCWMk+JmVU1ZRn6KL6//C7zi7TOBZ892ksqIxE0MlQUR8ZNSHs9h9U5X"
    "XRvo5y+O44LOXzD1w9preJbm6MeISYiuDimkkELK+hNubfn3sM+JldsGgPWmZglAVR39lqZ+zkyzAbx2h+J9vVh9PCE3FshWm27QFE81kt67knksXtdz"
    "eJZ1POoWJQVGSXd049mbvH50h7rOMqqdQd/Ieq8L2D5Mnh+kkELK+pS6USoH2JEpQ++gz9LyMoF37fIRVS/YHkH7c2sgYhx9Sgi0UX/3IVBgzMkD0lr/"
    "ZxyzzAf2Q34rD73TPB6dRu0ui6+g/oJ5yyR0bl0cOgisqDgSDfyNlYW43UqI+NJ4eBTw7NdsRPeemEaI1xvc4g06j8LqB6amOXiiuLcl6Py4HzNBA24O"
    "9tmK5petbwE0L/nIdCV1Os+WyCirUP+h0bx3sPreDE4OZQ3X/8GIqgIYVnoSDTt7JaMYWPup8YvQMJapRO96Vljh6Frkc6L2rwa8dtHLYcbaHGdrCNUa"
    "W+fou8pX8epODSg3IXK+n6Kl/oy+R1d7J/CfPJZd+tQ6f/WDITY+z91Njv5XpeckePEOjcqDIE5xgx+b8gz2BVZ631kifo3pkj2Q3yl9nivkO2GkUmPz"
    "vSnkx2L1mqYYmTbzFKs7U/DqM17o0YzVx5LH5sDPsbpD8dS90/ygGbQnqaw52PbjruY31rLe26o+n12K/2ZvawZ23mEZ7+7V5ndyoK9jFxG/XQGcIW2M"
    "Z99zfATt0wXWznj2wT+4PxGJU3YmK0ZTHS5fk7iv5L7eeNj/HvDXvLhk7DgM3032WL+G8986AvMTnETLeo9EGHgS8YucNyLfH6SQQsq6lFA61Q6r89p2"
    "79FG3MOVoQygR9bjQ0s5F+8MldVosif19zzAxkvhznhgdfrcQxXQVGfnUSCTMfENUPcTUSDQ+89CA7x8Ull+TCL5/V3ZZ0FkPjTLiGGgb/uYHvCLD0TV"
    "wG7BBNLFXpOIrOenEJ1vKPQ0xbNj5gbAORNcRBdq855xSdj1+nL60eYiyiGPR1nOBat5P76cdCttKfG57JwqvPaCohkL7Dl9hpsZCPqltKJBiL+xki4G"
    "xkXVvwaUv1GvAOYWWu8EGitScL/LlmljB2x+HHVpAOjzyVuCQP9lUmi1lPxvG/DLllPPxMgqJ0Lr3V4fvpr7iTy+qxubv01rdyXW/janKVDT/AT9bH1Y"
    "l4r7fCrwP+PheFc="
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
