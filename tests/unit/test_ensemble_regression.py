"""The default ensemble's scores do not move: a recorded synthetic run, compared point by point to 1e-9.

The expected scores were recorded from the ensemble before its hot-path rewrite (one gauge series with
daily seasonality, spikes, a flat stretch, a shift and a drift; one counter series with a reset and a rate
burst), quantised to 1e-10 and stored zlib-compressed. Also checked: a snapshot taken by that older code
at point 2000 restores into today's ensemble and continues with the recorded scores, so the snapshot
format stays readable. Any intended change of the detector must re-record these values (see `_record`).
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
    _assert_close(continued, _unpack(GAUGE_SCORES)[SNAPSHOT_AT:])


def test_snapshot_format_unchanged() -> None:
    ts, values = _gauge()
    detector = MetricEnsemble()
    _run(detector, ts[:SNAPSHOT_AT], values[:SNAPSHOT_AT])
    old = json.loads(zlib.decompress(base64.b64decode(OLD_SNAPSHOT)))
    assert _shape(json.loads(json.dumps(detector.snapshot()))) == _shape(old)


def _shape(value: object) -> object:
    """Keys and value types of a JSON document, recursively (list items by their first element)."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


# --- recorded before the hot-path rewrite ---------------------------------------------------------

GAUGE_SCORES = (
    "eNrtXHc0l+3/t7dEyV4hKyN7JVSESKQlo6KiSENCZESpqIgiIyIaNNBASmZKGjRlR9KQFSl+3+vln49zHD89T89zvt9z3P+8znWP677ua7zfr/"
    "e4biqqqWPqmDqmjqlj6pg6/r+j6V67AsHS3kWeBA8lcp8gWHnSS5WgM38NC8Fci/Lv1P/Bh0anuAlKFy5ZR9BiT+dOcn1AQTKYIN/CqCaChQUF"
    "0uT6gtWsA+O9V+JU31xy/XaycTEpX3+/Bvh8kLOB4CafV/PJdS3zoRFSFtQO3UDwY33IfYIyp2k/EwxM2P6M4KqdDeLk/iz3HQykHOxqr0+QNy"
    "X0MsE9n/IryPUQZqu5pJys1e88XrukImm/UZb9rSKFCHr4Dk3He+s3ryQ4+4K3MOV9xXVtbARNv4Tivlv6m6cRzFkfe4G8V+hZmdV472MzjV5O"
    "8x/cNv2DNcHnlV8MCUoFpigQvGWWpkQwPDngK6nn0dntXKRc45t2m5TjVYJrSD3z5wnn/JPz5GKZsTJ5n/ahvFiCFYzyJ1EeEI8i6NdyJpxgsn"
    "dDGMEE2ZBQgqE1d4IIbrj0OYDgQckdfgTt1g4eIGjL+P0wQcNnjccIOnBFob5kPp8Ygnd8004T7P1JFUewhL8M2OsieYbgjzBq4MxMN5x/yKSF"
    "9n0ZMDtF8PXlPLRzW3PzCYJLPTIjCHYyduG9MfzKBwleFIlC+9fE70f55rFWtNfiw50RgkdcZ6Ke6KFFRwgObyxC/8uF984i47E65P5HUr4kO0"
    "JLyk8NuegJcqav/UTOO+rvGSaoZFZEQ857fi/4Qcq7I+T7CbJp+XYTPKw8p5lgPc/jlwR/Lg0tIWhp/vEK+v2gCL7T733jcYJpEeF7CQq46TgQ"
    "/Hb5riXBU8L1qpgv5ka8BB/sPIv1Vscxiw/9+5gf6+oXjf47gtus6m8RbLvwJZLgV5HYrQTpZx5diHWx/bopwWdBGpAX2wJkRQmWD1YA9RUZ5x"
    "A8vuWnONZbeVMLeU/jRW53Uv627ZgPwfU3Zt0gqHjr4y6CRhFC6wnunseK+4esP7cTZJZ4NY3006b9lhi3dvYfVgT3LFyqT/CGwhlNjOfDJfhO"
    "xuqLeG6zie0aght/fVhKkNbYTo9gWV2iBsGVqtbWBDXf0ixDf3I8X4JxMFqhRrDgrYcCwSj+ueq4vnELrtsPXgLqH7ZyJZjLr4L20NoaGWM+Hm"
    "ZVIShutFuWoEjNfh6CNrb9LAQFpwd+J995RVmvHnKWQ+MhQWUBxlZy3erZsmHIMR7pTwTFtDpbCersOFML+UujVIF+rvBDO5120+J8ggDfa4KN"
    "L2wfEFTnOJNJ8NoLxWiCCxrYYwnu0t56gOCb3U+34b1zdq0afX6GEUH7BXlqqH9Vqi7kd52BEsG15k2SBMUVXywk47FIIRjvZVVa9pwg15VlRc"
    "AKp6sEbXdsO0vwxDIJzKOmB4Eh+N6YRxj/ORlvPPB8dt9mgq3h3Q4Ek4zWY71OU2CJIWV+3ZSjBDNS69Fuq0oGf/SPZbUX9MyMth0Eo29a4Xtc"
    "k+VRnxCfAfSEjKW/HfTadPZzmP/pkrlYv8dNMW8CMry6MP+4HaCfdva1tBGs/brjBcGqPOdygrPEevB9WxVFsgmGCbScJyhtVXmKYJz+o0MEX1"
    "WH4fvaAhdhvvcU+WJet7BrMZP3ydS8x3yXe2uK9nXML7ckOE3w8gKMc3rMYszz8MF1pByStbsI81S1+RgpH6P5uJtg5KHbu8j5QU3OeFKWj87c"
    "R/B+V6AvOW/guxH9LpW+A/3WwmIbhvHgjsJ8GNxXn4B1H8Meh3E4U+RGcEXiWbSnpFFEj4zznnU++N4QWjvcJ/izGuN+ssg1DfMrUhzzfiHd91"
    "UEvz62m0VQmUqbluBpvvZr0E+vNR5ivUpnYr3pH9QrhBxsmr4T8rLK1JHgokotHcjt4F6sI2tFBgGC7jLSkFezu4/SE5wTqIX53qb9CPPNVY3t"
    "IMEyV1XIyfZ5Q+ABrg1VWA/394pdwPp5kR9KMIVbC/OH/njfFoL7k4RywRcOHnHBuJlyof9F9nqsIRieI7GE4Mb37XLQ+5dcrxGcmRGnSfCMKT"
    "XkXs8mhhU0U3Ry6pg6JnXQfbgCPVFV+h7yUyFFF/JppRFfMkGeYwmwJ1LrRLG+rddf3kRwsY7ZYoIBm60gZ+zu20EeFwkHQY4cTbLaSrCmwMOM"
    "YKXS1/fk+ouryXng8XOr8D4L+eYVaIjdOpGJ2inDXH+L1MO7xZ4JckH25kZSvhq62pCUaZ24jKEna9nlCRpvqQA/Sr1yaz541HCcNMHtuU2zCK"
    "5eay5K5ER7bf0KUs+ANx94mPaRQWpy3rvOuJac58/hhjx7a83mBv565qsnQY+f9uDPHNy7vAi2eibZE3ypUgn5usS2QZegjnwVeJ+g4SbI31Sd"
    "u7BD6tIW4/5LPIqVBFnOu4N/DC84AP594W0Z+CT9m/XoR6olJ2zAQ7n7UO+nwRoR8FRqFvCaY83Tf0BvrOJ/C31qs/8pwb57WfcIPmB5CPlrK9"
    "4NvfNE5nQ2eS48zgR8Jt/9C3in/CsXyGENlk+pBLlP34B++2wVF0WQJnka5gOz5TLouzWRMpgP6Z80MI7B3osxDt0H+SCnN742t4Dcn2mCcahr"
    "OpUOnt0qDl5x9YAc+IO/XBzmj18YnTm57t2x4Dp4bG/BNPDJeFr0dyNNAx3ssFeDYgSLHvs3gU+a1OcT/BBbDZ7aWlqF/ls/9yXs4w0BPAbgtX"
    "duSqJfXzxCv728+LNrVG+7viIYpEIH+9dn7jXYq+42LeAXYhF2pwl6vmkGj/rKPx88gPb6kY3QT3u3Z8BeXh8Gvq6V/Rb6y6CjGt+/+Lu2Afrz"
    "+UXY89QnHGQIij4Mhv3asrFoNsGIwqO8GL/eJA7wDYePpqSdunK86FcXMx7oO87cC+Cp9Fb0ieAV1XLQqzRHX54Er+CzMSLP3fNWryTle9ly0J"
    "f7eFbmo98TSqG3a7hmYVxXm3/aS1DA+9Va8ETmOWhvy8582DkKEiVYxwlKbli/qf0zbsIv0aRdhvl1JM0CPEN0OfhbGPUB8NLIxz6NBJWuzP+A"
    "/qk6B7+C7nUblIUaFHFfj/4Q5M3rb37gbVHxQ48JXtYLsMU4LKYTp5QHkd1Lj1OWVQKlqMj7Wy6clCVllo8LWSivRzyKezSeXHmssSx7UnKSrs"
    "MP8spB9BnsY94hYYKsD7XAV2wDivohP653HiEYKj3qx8m0OwX/hvJDsUXwkwgMwE6TP93DDfnKMwD/RJdvOnhb660a9MdAyQPwZrpBZ6x/L6c+"
    "fG83yzv0r5DqNvC2trMtozzssBd4ssH7HVi/6sNMGN+rF82xruuWMAGHfU0vEvzeswt8Vo0/B+uYy/PVfoKq3UWBkJ/3zTAf5obvBJ/PnRsMHs"
    "09sw/2YKhyPd67xo4d4x/K+Qj2Tm5+bhLWhzwX1g1D7zy0u9jDHDzYzm8m7LWFSodwPwuPBnhtgXso+PJK137ohaKQe+jvE18ywYu/iNegnyNL"
    "S7C+JEIPjc7TkaFLsKsuikEO6Tc4or1pVa8gp5Z86oJcXKmwEHZNvKse/FRy13ahny/LriolyHHL8Tba8YLpCsE7atyQR5fyZuN7Oou/w35rc9"
    "0F/Ugvvhny4OjCRbAnuQdOZsF+qPRG/z6jH0H/03y5AjnCv4UX8tdw8wvUeyMmH/LVYi3jOfB/Dt4U2GEJcVgHWe5zwbcjphlivbYfvAR7vfze"
    "PBdy3r8mC/6C/JCFdZBf9O9gL6kk++D7Bi3asX5CqEZg5xpEMWDeXHBi6US/5zH2ol+DfNH+Gba90Dsic/f5Q95eOjYP+kZWTIIgn5IO7Gix8G"
    "7IzTvTLo/qy5KfqOeOG7szOf9k/Usagod8anD+rit/O/T1SmvMlye1ybC3qVpZp3j61DF1/I8dtJ1G8CdrODXCz157RZCa8nqGlBeW9eWLCyDP"
    "ljiw8YPfPVajg1+ua6k3/LVXROAPKWntgj+GOTEP/qca1dqlkFPeDdrw74i3gyfJPbfnI/hT9RTkfZD4Mdj7ku7O0KM9q+rpJtP+iL16aeOdDw"
    "mgnTfe+Qx7c+jteFu5PtJunpU1aQRNPmyBP+tikxjksNirHPj/NTwEwbv371sH/VbEsHYO/OIBrNDPwtlUkOcZnLrg1VxH7OA3E1NtRPzmergC"
    "9Mty9fnohyrXrfD/lcqlqv6J8XNJHYJ95ueTAL684Vv5V3Jes6AsHH7R7iT4PVvieg3J9V9KquCHUgnB4LsiNaLQD1fNvOCX3ejzCXoms/ch+E"
    "W0gwDG57bvHPDhBkMO4Jfo2fAnvtf1A99P0ciCPrd5YwL+LOTUD/+2z7Jk2A2adaoY72WXhplhN1YGg8+d3qeL556bGIIP/uTdDXthOXMd+NJe"
    "DSP4ibiflVpD325LRD/OenoVfta5CzOXw8/JH7EaPJsqA/pftyga/lDGnd3gm7fZG8F3dCPPOUGPcQqAx5mXiwMPBMxCHKlT/yT88Xl6ISbgvS"
    "6FsINEs+TQHgOdPXivfcscnM9hSAUPSlajQ/s6nFnh9z2vkgl/73CF+XT0rzoD+EuHgR/8YzsckmE/alzoh70eez4D1w8LOYKnbZW/D3sjNesR"
    "2vXUzR730xxYBT6q7nUb41fe6eOIuFijEPphryoL/KD75gqgnMaui/l+xiVcC+POz4B1QdMjAF59we8eeE/3LXb4S2Mf0OmA33DT4v6V2Z4aGM"
    "9LOeqIM5yaD7RWOgX+8VTqOfrDLvQV4nf0P0SBxqr2QC/ODOD5VoYExJV6NoDfVN3iS8d3CFiDj61akQ9+yZjkA35p3eMDeULHaauF5/gdwK9M"
    "+GfA3s2lu4X5d+ESB+I1WU3hd2AXaWaB/z8WtAVvu/LtDfhZn1kynpNd/wT2lJNBIuzVo0f7MH7h7LTgp7ts18Huur8oEDz65VYL2NO2iUED5D"
    "1GbVxyBOd/7xoCf6WlZSDlW6LtN8HvOrY9IHg+PA/2VcGWmOUEjbVPIU6i4l0I/6vn/LfgW2czfsLf8szxGvrzzL758K8uHziJdeevOQx/8GrX"
    "3bCf26XM0T9eHk3g0S9vcZkRtGxcD/+shtkb+JtP3LFAPJaZ78es35En6iH0Ln9HHsW89LGkVCBbW6vmEQVyaoEV1rGN6xG0s+xr9lGC7Gt3Qa"
    "7u7X2J8W+QbMW8vmSkDP3xmJUe81/+VC3WU0Dhx1G7/XAH5CdLtAInqScy1hvzXXIPPeRO9Tom9MPqiy/hp0hh0xPD/Q3TGNE/SZ7wB/1UmQ/5"
    "8OP46DirheujX6VK+rCumE2dsJ46GdZhHl/UC9Qj6L3wPfTO+jlmuM9WXQjv82f3wTqqPn8IfqeuFYGYf4LCckCvz7Ngp3GrLsc61/aSKkOc7C"
    "YV5q85owL0SIhlGuxy7eF7KDtTjcqZdUHh0C8c55RdRvMLHkDemqX7wa9uzbMJ/fyLdh4/qZd7uw3mzfsNufDXzd8c8wbxoMpViGvKJWVCjx/v"
    "NoIdIElvD/tBMScGccMCWR7Yd5mOXohTW+99A4JwyrAYcVwn9uKZiB/cSevGOqpfivyBbRfMW+Cfk9sCf8+T9wcQd6PrMoC/gOHbbejZn9eXIu"
    "8gMXTU35JLPTq/90g+8cb476qAvHaLmI55EGNaDv+QjsV3zIMIdWXkVaglpvRgPeZW4rxo8hrYnSVsr1FPn3s9+s2F4RLGa0G3gA3q7X0Heb8w"
    "bAn8I5kV0yH35vEKQE5KJVWArwi72EA/9Rd7I2+Bzl9k1K9TKjED8YvoG/DrRFdYoT99Mk2LCVZ/tED/a6segJzjv9YJvUyzsgLypdXaBX7Cg2"
    "Z08L9cz81Hf1BV+WD969VGQ14xxZ5BnM6d7j30x68lPtA3DqY8mI/RXCPwh7rYhc8Ev+mwlIC+KamG3ykz8zvk4QrPZdDDWrmhY3heuUA+1mNv"
    "9dvrBN+tu4f3clazwz+2M1Aa63FDEDP6x9LLiYvy+Z89DazUf0NuPOblRpxPM5plOvUf5LdV/GbGf6U+z1BJDsrnhKzmWY9Xj2E50g6oZvhxgj"
    "8vv3KNgfI6091AZXLDuqTjmB+VsyUR92RanQY9pdrUC73kE3vgPfiZgRreqyI4G/Kpa3Mv1iXbs5eIp24J1gafEz7U+hHr+oMS1llIAxV4at7l"
    "L/B3FlZYVkOOMq5CvseUfT51TB3/+4eo9iwp2F9xP0v/RH0S9mJi450XblwOvSKxZRr0TGP7LS0iP3yjE2DvzVh26D6RK8tqWEf1VJc/+Ns7q9"
    "nQG87e72BnZgy2QD8rldchP8D0cST0+ariTeAtLUzXwb/iLxWCX5214oZ/98D3HsTF9qXEgfcUSK4AL2vOdsP9uTpSsLMiTD2Ql0TdwIj6jpzS"
    "w/X2PEXEM9s06sCDLRkFEY9cX2iHvBuGI8GQ14lq7LBDU3Q74bdlqV/NOEavMfAgLzMz8wL0f/a0IOjPuUMf75Lz694Pg5dsjAwB75T56IB45b"
    "FAaj7KehiqdNE/L+O5/9Z4HShm+YK4jf4C5DGaPKEpgD4RSgTPaDiodIag7wI96G2aaGaMl9gZDXv4odX3wn6WuMoAPl0e/w7xxeSv2caj/Eod"
    "+r1Y/Bvsdmbb1+g3vQElNDyBbjTe6nVoDjD0RQoreF6sxBj1sn82u9B47c/PEXT8b1hHEc93Rv0OL8g/fQrfq0tDZzHRczPPdV3/k/zlR/DI4Y"
    "nqk3TbGjSZeqQHhqpIPXdTVRF3jWRzRv7UMf5B8JLOXEPMC5F5OYhbbntjLEXOu5T8xPoROWe3ALwk1hDraoEmFfwCq/LPbIJ9ahOJOA71dilf"
    "zCu2IPD42hV6iE8YcbwCL5cS4o/A/MhqhD0yvb8TZU+OSthD2XUnkecXaWE16n875Q+7v8MrDnJkj9Fs8PqckXT4B95avEFcTqn7IeRDWEYr/D"
    "ku8luWgU8W2kNOurd7QI7x0H8Bj/2y0hxlX38arN/S5gzYj7nVRlZkIt++XYL4cu8xfvjF7pQJiyHvdsZGdoIvUg1gbxiLmshjfGJiqbAA0hzx"
    "fMBq2lG+NVt0CSWWP1CVIVhxlA/5Cm9oUngJNgmrcRJsGa5lJrjZLBTE8u43oyHYa968vcjDmjuEvFcT1a/gi08Se+sJxm5jfQW7KErlKfIfqN"
    "yQh9CceBN2yHKrGXcwzr/234DcCvqFvNemwiPIX7h8Qhb+T/lXr+MJmm6PBW+MVHGBf8Wa2gTzsChHE/nFIzKa8BtqzjdGXD690hnxy7SsqG0E"
    "r5Q+wbxw+yS4nmDeiJctwXN1Tch72OG4Fn6CjC1NmH+sz/cgTy/Bjx95qOeMHmkD2Y4iL9M1a40SQSZWNfhfnlMLww/rtHMmxiVelxd2aYq+DO"
    "JazfbGXOi3vTsxXoJuF5nwXSJf4W8R8NCH/2WFQSL0DY0nE+K9uz/7I09dL5wadqyGxvEPU6xj6pg6/juPiPnVkItnfM8hjv7U+xd4jvSGOvi3"
    "hCXi4X+yVR56PZn67q58gTyCyu87Pk90X6VKKuRM8cx7IQTNdWR4/4rej9nFET6Z5xyjbxhPdL1Za/lJyvLauwXP/06/9t4OqqZs1xH1AG/Kcv"
    "exXORBxb4QgZ8w2JAefsclBWWdyM9v73InGMivsPbvtMPLY9Gk8nnUZM/l/wneJa/ZsO1P8jfWuNF8uIwVl5FPYZxjwTTefTUeDfDfnT06O2LM"
    "/OaUBn0Y2HYsgfL8mU/DGO84wWApyvNbj/CDdymr1mL/065HEbMJ1m3mQp7P/KSNt0b3U1B3TNTurPRw+A8fvfyBuNkXh+MT8vbm7lDsc/jYdr"
    "dnMv3iX9O5ibKfz6vtSsL+kIFyofH637q/LGKi+jIL9sMAmabW9Zw8T5dUgfmQ/5SpA/mBDp/RkW/zVIFKzWXgXS15puDF/cd/Ic//q0EC8vEM"
    "E+Kwv4Wq6TTi3o9kCmF3Paw5xkSeY6/3xX6kx7XTkbdIx7yFg2CMkwX2LelXxrMSlKy2/kWek10RmQW/agHXPfjZj4ishd/cKBP27fDqWMQvMz"
    "xfI89Ptn4b8jld6yKwz8vNRgv5UHb6ofAvftq4aQzv//QlwuXfkLcBGe9k/2R9C6JKhinHO9+n3m0yz+m6L9n6O+t0uzpP2l9Z10/Pl4In3jYw"
    "6hzvup9yQvZk6t2yMttyMvclUPf0UZYfqtHIgLdGOsNv4vqLzYTyerrLLPj3p/y7U8fU8c8dDq8vT8jvsuRvvZzo+fsp5sHU/2J7hW/nllO+r8"
    "WYQW+8+2zlqeCn+3CaI36i9nnWaSmMJ1/Yr4ulUpadRTsQFzwoPgv805NHE/vLOmQ2gS/evSuUSMrXvMqwX3AmEw3yUZ0uR8E/EVkv8A75Mmzs"
    "m5EPnSn5ZKLvVNFkRxxZnff1KsrziuEWY/jvx82B8A8LHCyD3+fuz/Y149XX1rrzb/Hm4VJaxcncR6s8IvBPjPtBdXvwRPsEicfjXb+hfx/5NN"
    "3SaSrwS9usqiJY0TKlP6aOqWOyx8Xbbdifst9eDbzc5IYQ9tO50bghH2x62OD+8Z7zOS+LfWKBPqUlpCwVyQm7qa50IfJJmg9SB1Peb3QhE3E2"
    "Xw5Z5BuFiz/kHJdfru2uHU9+axg7I1/kpVcNzXjXBwZPw2//i6E7EvuBq5jxnwf5jV3Ih5Ln04ffRMI8GvkhyQnfMpHvlq0CfOatjPjTbdZE5D"
    "9psW9H3uIGOzrkTZ2gvQC75F5vFPZjjJztaya48IUI8nKK/RcCGdqbETeQz8tCXsz3eZ3IfzKPX43+kM5Kgd9fhJcZ+TNv/Uf3CyWYHEYeX+qQ"
    "Eco/mRSRX6Us/Rrxxz3Jesi/fWpSinzBqv0vsC8lJ0ce8YRiRk3c9zbuEZ6znWmHcXTWPGFE5KFriQvsNJ1v8WiH6rAc2us2MAv95pTVDPv45E"
    "lvxBWEUvNgJ8so60HfiH5cC3+U/JA/UKvaEfvlny+/h3wjF2ob5EN67FBEPM7tWQz0R4NjJ+Ky3MuNEEfM9KPDuHNE+LP9nXl7zjYm+5/gIc3t"
    "wWP8U2aeGwL+Tb7T2NoGf8ia4/itCVX3bU/Mk8uHWOBP6PCqh11vsyas/d9oz7HLvYjHxnJGKVCej4oqHGPfCvS3Iy++1EMQ+WbbhdONfuc9fC"
    "umCVP2s8Or+nnj9fu0pVHwR1z/JIH58/nm6PyiNVcf41eJFfNAXruHmgLylj4d8RuzL6/5YhETZf0uWupYp8PHU2LGa9+u9jxL7O+8bmI7Xrsa"
    "j55Woiw3Ga9U/ZPjYLOzNnky9+XujFmEOBqdixppbydzWz9lex/5um6kLKffcMz+k+2M7H+4fbz++Rimk09Z7nDvwL4FpbTKp2N4J8d6xLm2tg"
    "lvoDx/VI3jwb+pFwWSznT/zv3cBsLSlN+9xtPK7E/KjdW1lXMnc9/cpRua/8T7FKqPIs+VI1RYZbzrTe+diidTz4mzPo4T9cPNwhgtSr5+n0Nc"
    "/3fambvXFHr9ZbAz/PRBkXrwQ264q4590/fLwpCvcv3cNaxPjTvOyaPrUwZ67GqJFv6LpeNqjf29eRmsHJT1F4clQK7peAVAbzL6BEDfVS16jf"
    "j8D3mTMfaa3QDzlP0xdUwdf/EoZArYORm5ObJkBvajOLoLpU90n7lQlDnB3TXMWLfsrtXYD62eHlVIULJ6/P/uCb6tAz+OEyp2nKh+jgd5l8Zr"
    "b5+jNPiJYYuTDeV500Y/5PkoGsVhP4ec+Tfsr2vR7obdlPTI/yJlffKD3rCXrBoGwadYubnAU3aufoJ6+O7sGZNX1dakhjjms/NeyAec67xvD+"
    "X702mHOCb6HmqZkTH+tcQ5PZ6TGTe/rakT+oGCTb2QZ6Xj07Prd/RiTfOJCcd3a111I2V92526dCjLkn1fsR+JjWoO7CFN6U7so6cJCcK8MPgQ"
    "xoj/T1V6YrwWCDjA7+dhYwKe/YmZTRTyPrQU+WSHlPaBbx7+VYzz3+NqsW8noMAbz32T4mUn2N9Kh/8nRKzUQX+LzVqH/PYlFR20sPN2B2Fc5d"
    "41I+9QUXAN8jV5iumAKg+e0k703fKagUuJnll+WNL3T/KMHN8q7b/ynFjfOuQhfvNRCf0n7aWbW5/s+J36nWwDksY7H3q4i5NST5918jIn5Zwd"
    "h7EvhyFOEn4EZ/ur2O+WN/8q8tECw0bztViebh93Xt77wqJI2b4N/cfxn8EBd174FV588uX5nfY/Y3TFf2NcntiOsSeKVQbBX2gWfxtz3nJQAv"
    "8Xfa87gniv7AtW+E3aLDrAb0QiQrAv7ebwI2BOxVXkNXQuzRqT51rLvoyeIBNH+5h9d3K0ndiHOaJtZDmZ9udtqnpM2q9nDfcGlUzJ4zjK64s3"
    "3DCn7I9XqXcw/43474MHutXZ4r86JxtcEff/P/7fn8E="
)

COUNTER_SCORES = (
    "eNrt2Hs81/ceB3AqcsslMp1+QxcrRZ2iFNtYLeRSwhBmuTS2pqG05lbHKhXKJWKijYfYrOPSIVK6SUykEnOt3KLlmlEjba/X+Wd/9Nhj9tg5j8"
    "d5nN/nn+fj8718vp/r+/P9fkVEhEmYhEmYhEmYhOl/PfXaxxwW/VVFmTCHydwn1jrLEn5bGTUHDhzznCP6m/OZe1UG/0g5jV7fFMIxbRlf3O+/"
    "Rr4RZtVdfyL6iutb9yefxPFNwVueiv6J9l6e55gJBeMJ//y9++WH7NZM+VWZkPgtv3ed/+3xedBHbtVPf6b/cwMGXVD+oOnhHLgxRHQDjodE2N"
    "shrz5kPDyZ8or61krCpulio7j/VGqKPNw9/Yo1dPIsXYrzoVZzpryqXTszv8+H6gEpujhvvr5PDf1QU6fK+dFgUmuO/BzvZBrjbbkBBkTGvgtX"
    "q2w2hqPnlhjA11xuaMHvGtSWw63bJWfDfmkFCZh179hUWNqrLAarxQxo11ifOJxx/gnzVQl2slD/gLIC1H0SpQ339KQpw+3aFopwWPOlNMw8aC"
    "wDO9YXS8JQH0/WY8ReU4rlx14fQvtK1MbH4JLDWT1Q03P5Y2jgL/szVPMOmoLr9150nw5dtB34nJ4G30WwqWK3HmzoGTKCV1uH2P6sI/XsF4Vz"
    "L9hPu1dpW8BnC06bwc54TxNeL+u7Hs637mH/zfAofwcaHA94Gx6S0tCHl46Um0Ita+XNMH3RVmv2g18crVXUoLfCVXi+RGC2Cd55HsjnrlPOYT"
    "3un+1ivdLXJLKea78JZ72bY99kO0as5rBdn8dWvM7xFJiyvaFrr79AfzzoPTcI29ymdUMdZ1OO3xpXJ/ZjhN7Nca5PnZVcn5+++LET9ocZ3IeZ"
    "u+qGYcWERAfULu5iece7DXi/2ZpPBmBcocsDGBsrUg0/Nzt+ExpqhPN8rLMU63PAJWoanv9lVMVCuDStaiV0fGi+Gpr6SzJvLXjC+aJ17+A8WG"
    "EqKYDv7/mZ7fT+oeQNaHdVitd5HHTkfKnsmsr+yPNTZv6xVzT7KV4jn/PbzkmSVicbG3IcT1Sv47x3q+L4RrYpsL/LHZo4zkM5YbxO/qtOlnPW"
    "04Tje2GfH8eh/mo36zussW4x14X/Jk244739nMcf5j3i/HZud1aHC7O/5XVWtQMabMe0rvlQ/agR80YRF5n32xjG9g3mFatynhXtYzkfjzSwHy"
    "yNt7H/gooyV8HxAh3Wx0LbmfVbZvKA9W06GMq42HH3KPs3MSee50/L7uR5vQS3ZZxHISZ83rZGPyXolFcoCr0aFTneJ0Xb6qFbeMSPsHJJJOeF"
    "TVHSI7i1vLoL1slH0uaJo5xPPtHmL3m8/dRzrte4B33wg8UOP0HXgVWcf0oyOzkv89TKGWfaa2a/Bs2VDLmOBdb7GYe8/pbKuFJYGMy4YPj1bf"
    "rU4jbnlXd/HJ93+c5exlMJH0PGCf1riU0w/ELQeXhtxlvpnPf6KV/AbapuPlwPhndsYH7KiAEsznm5CeoWrJyA7i3BRfC9U0HX4bqMPSVwhaCl"
    "Dva9a1zL9SZW8ANc/70C11Ng2i2uJ+MZgdSn9iHXk1S8WzOcV6TKcg4YNaZBmTE/G673SlvOY+vR8plwZt55tu+8oaAXpuzecBfOXVRyFX4X3J"
    "UFMyZKE+BQZuoJ7gs53bFQbtSe9dbOlrgHEwbcuW63hAyOwLyZkoxnOS3dnDflF8t0oK+VFXVX7uc8ytUeZHzLn3BivKo0iLGEGbOGGc+8eiNZ"
    "/9p9fbTDXsQW2lzQTRe+xQmTME0upf/rCveT4EB1xsftUhncB7e5RnAf6DSu5vpsvDX8dxjrc/ctvvcUfMB97X6XEddp5wKnjYz3D7Ws4KP5/b"
    "So+Uv6WdViKiE2lbo7q/O9ROlDUa7vHS3XuD9GWDRyfzTLreT+eOhCCPeVVltJXXggIHoJTD20g/veDW19xvOvS88yjlVlWLIdX8W7Mk5bvdHA"
    "/aRezpj7wkdPshnfHD9xaYXZ4rPa+d2zNLOC+9A1TcavXeFy1+DUsolMvr9c7Q6FqQ5vmkFBwafiUDpR5Qb6ceOlE6fhaJp3EvTIs8iGqbI2uX"
    "BZ6r790LfsWSR0fJrC9+5HFpUxyK9QFfPngLywsgJlbTqroMN4x9vwwRfBzCtlf7QFxjkZ7cb9SXpafC+d2resGPkzsnu435/Zn8D9sndkB+O/"
    "VcbLi3DDieXUNUnxMuN6qeEl6FcSyDgfNJZ0i98DHdKMq8IkTMIkTML0f/pf8KQt95ULMeL8DolMvpLL76r7H+fDsQhPexh2rGUtVKkx8Pv3d8"
    "ye9/k9UqziCR9H5wyhvLSbm01hW+0/pGHl+Dv8b7jIskzmVc+XVF9t+Ufq6WzrrojnRBsKPoOXAj3kcHzKDR9+F4RJzn0GPTWLF+L80/gI/l9U"
    "SG5egOMzNmc+h34up3f99n/YqVKfFfzPUGLL7zs9/xX8rlIVnVsGX9c5qwPt3c8cw/XVFxOjJ9O/6ssj5+L+m7PFT07mPoO+M3q4z+FIZ91/cv"
    "w9ZMUGRf/C8mq07q/7K8qJGpllP5nr20tF+D/CIsO3/lXtqWn/777v/ALbBLCY"
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
