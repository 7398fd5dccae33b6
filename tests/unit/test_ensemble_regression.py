"""The default ensemble's scores do not move: a recorded synthetic run, compared point by point to 1e-9.

The expected scores (one gauge series with daily seasonality, spikes, a flat stretch, a shift and a
drift; one counter series with a reset and a rate burst) are quantised to 1e-10 and stored
zlib-compressed; they were first recorded before the hot-path rewrite and re-recorded for the intended
changes of the flat-line decay, the spike member's heavy-tail choice, the refractory period, the
sustained term's wider tail fit (`SUSTAINED_FIT_FRACTION`) and the drift member's confirmation
(`DRIFT_CONFIRM_POINTS`). Also checked: a snapshot taken by the
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


ADDED_KEYS = {"since_report", "report_surprise", "log_scale", "recent"}
"""Snapshot keys added since `OLD_SNAPSHOT` (refractory period; per-series tail scale; drift confirmation)."""


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
    "eNrtnGk4llvbx01JEikSSWXYhJTMpFSGEIVUigYZMouGnaFEKmUqISIqokIjFU0qRCGJtJtUMg9Fs8rznH9fbu/h8Kpd+3j3e9zry+9e17Cuda3xf55r"
    "XTcLCzMwAzMwAzMwAzP8b+HF9QYFYsE73Q3EXYcE9xJL9m9SJtqLPOAmZpsWfWT9L+/oxwoSZa7OsyaabmzxovOfFKSCiMJzo14Qr16+LEPnZy0d/qm/"
    "50rGvpen85cOG9yk+NnXVmDlZ/7nRAefGm06r2HS3UNxUc0dtsTmZ8E3iJMPsLcRtyV63Ccu8XouQddnua/jpHiQ8wod4tgjOzKIG1vzbtP54GHm8hQ/"
    "rPHBvr98Se9jf8sY32K+bzzR07d7JJ77zHExUfz4ZjHG624+qechGrXvwHUXdRx5iedXxx2n546/X2je3/N4jKLN2P5L15GNFsTKkvY5ROltRxSIF41T"
    "pxHDDgd0UDp3kz1GUfyBb+oliicoBT2gdLQVxc7/znZyotBgOj2v62tRPOq9eFY08cRFtf1ExQfnw4lGL7t3Ez2Op+wkihXUBhHr54wKJD66lrmF6DNa"
    "bweu0zQLJb5rm7eX+GzsMKQr0PItljhJRg3PG9qafJDofGB9AnFI8ktwYnspKHLeEHwXJYXrXKcZxRH9ztyJIY7WGYp8Lmp8HUnUu6AdRhwjHR1CrOqs"
    "iSByFb9AfJGqHfJt2nilh3gj1gnp3DK/ivu+r8lH+cuFvRtD9bE0+EYzxU/K9rBTvGLOqCFE/rRlrXR8lc7G78RpxvlsdFxuD+tXil+dFYF+Fbm0pYto"
    "z3r7FfFgXuQjYsWHsELi4buaZ9HvuC7jPdmXHYginhWM9SXGccXZEh83zl5EPDLrkjqxhtVXlFjslYz+ZpA5fzyxqTWUnagf1Y3+OjWz5wqxWGHjAaKA"
    "/451RNOzTw2JkeUfFxLHJ2RiXLBbnPsHUW6VjTTRvDoe/eqdUIIs+lvRC7xHmp/5erTP4hsBxNU5Y3KIadF6PsT1LumOoOJwXN9t0dZAHCZZw0vl5LB1"
    "IdpFzu2MJUThkDl6eB/jbIwPyv7+Gmgf5SdwH3uo9gpc19FjRtzLe2ou2t/90bh+sbKFBVHCcz7KKVVplimxVnOEFlG10FSZONWadQbx9pq184gLP9vi"
    "Op3d5s5E7+p65MfFeqoJsUfdEPmYk/lsGjH0hroYkdu8kR/lLJH/He+v+OQ1cf8jsUri9HFD6+i8u1/+EKK63+suOs4eU9FKjD128ynRtjjqHlHntr8K"
    "2vtcBxxf3rEN9acoNwzjYL7IaZSvTVPSIYzrvjuPEDeIK4cT/Xi3bySySmyxJnI6XDcmfn5poErU97OdSZz2xH8K0eWL2ViixNTquVQfW/iySije3hwO"
    "bs9ZcYG4yVM9nshlOhP1/FHYz4O4QkBnGfHSdCMD4p8bBdWIE6JUJhOfKvpgHE3SX43+Lu7esZriTivGLiV2VIij3b2NaJhHjOkwm4P8b7acQWzSqke+"
    "H+y8OJ3Im3JqKnF442fkv2DkiKNoL2lS2cToSCP0i1kVI2vp/Jt6/Ra062+nHmMcPzemlNg4Y/M14uncT3nEZTqPspAPa4kUosnW6BjMk1f5QlCP9ip+"
    "mBe8J6DfTG85hPnl1QiNYfS817dM0N5NP2Y7EUNl5KzQzzZ+x3tppcWgXUezh6I/BGetz8c49En0INI91IZy3bfrkjfGN1XDdIofHXMWz7/xZhvGgS3d"
    "CUkUF1kquI94TVM8FuWgYXMU/dQk+yTm60Yx3K+7pRD5rlPQXEW8VTthJtXz3ew7mGfvZpmdwPz7tbyKmMltn008s0/CgJ43l+Mj+kFHmc0Y9NtOb7T3"
    "A8INZzA/PVK7Q5znygq9oLNz5lVihp+7P3G1jakr0XLhRvQzz6m+szEP+FlNxjgdniBNlC84LECc3h3RRM8Pq1BD/qobtscRC52Vb9H5BsVu6ADe5Hd/"
    "0fGQpVNQf0IsmbhObfHB3cQKy+t4761J4/E+LGpB/oRFkW6eaO+nOt2I5xTEbIijiyNmox5OOp9B+1ww3RTjn7AA2mGXA+ciNqacZAZmYIZ/YZhtzId5"
    "Uu9iHfRtd47zNqLvOA436JOzbZZEi/JATeibkvdSxHMcdRj3LU+Efsb8uM7vDfRk3h7Mr09Zi6ETElJDMZ/em3zgHHStrFgjxS1k9z6CnsgyrsZ8fzCl"
    "EHrR69VVYlmBLvRMSd7OY5hXRScnY752GbqHaOjSsJkFejES43VZaiTsrEwhKwfoGbHZdsQnL2LT6Lm6XBynMW/cWYD5m7udE/OhfwgHdFym+nnYU5Hv"
    "LvNS3DGBHfNULdtzDthhNZ8nEfPLtryAnjR8lod5T1YN6bNIiMG+EK5e4EFk22UH3SggeBr6W3XtfB7i0hpd6LuAji3QG1oqJzFP3X+/NQ36zagzAjqx"
    "cm400b0tYSvRO1HJlTik4At0VdifHpjHczawrSWOCRoOXbFmlfwC6Jcjh6CXSr+XQHfJxnZBFynWdUkSv+qrIz5aPk4K9XFmzQRixMpmI9S3UCp04vVS"
    "Segw/uzj0LFDzIdAX/J7GUBfFhf8hXnxm7ClPt33RWdvA8XVvXWhW79oP8B8nDTEtoKYUp2OeXex2KRE5G9iO/TN5OdX8B6vvPJg9ylI3jImbj2s8ww6"
    "Zr0DdFqaq1AznrsnFeW7WuIjFzF7o/tHtGfHV7BvOCIdhhM/rfBBXNnmIeJnzATgl+DmrSiGrjqjAH0QldBdBl1d4bgT/oDqXDPo8VErRXBd5/xIYnTb"
    "SUGi0jZpFui7aedQ7h6tjZqM/Sr8bvzd/vpbmdqCc4PplxwcTdAlpisn3qfnrBzbDbtiemQl2u/ygPwPxIPRj6HDly3cjvrYvzQ/iqg3bjTsr7SGLPSL"
    "I/F60JtqotnQM29809B/6y4+gD2SdpI9DM/9bO+CdtoZC7uwk/tpPfqdsqsXHXczsGKDXlecCn9J5B1r9PfSqzaon7hdqq+gG+9zg2c8NNC/5T/yIr2d"
    "0pvQ7+Icg6GrTXWc0S8FbkWh/V80uQ7dyjJHCzpWUOA97EE70+2ox9PXBPHcbbbeaFecmxeiH8kemVeA/tDcgPHDbHYpytnGX8Cc7jPszMb18iczbhMz"
    "YkPykZ9dRy4Sk53lkR+5sWLQ0Qdro6C/k4cGoJ2yzLVA+ezq6Ub+ZYR77eX0b7loP4GnXuL4vNY3X9C+FebCrgnv0ka/yVzsBX9WSJAX+v/Zsi8PiaeO"
    "30O5WC9LxziXf9QD9SsRrBRMfKkgjXGueMG97bAf5uqinde1rkK+UjRCUE4GM30Oo74q2ZEf4+giHN/Z6on01j9ehHaxf6gV/HxbBVXQnrvmRIFZ7vLC"
    "lN/5ZkIYd23Hq8CvVHRd0YmOt7kfQztYny4AHc4SJIz4uaMfYIeKCwWin3qpZKF+eFRyu9EuTkih3pLfTMC4eiPBfjT8Msvfwe8yQd4PfqHPxcYL0J9r"
    "imC3+2n0+jFOZk9XII4ScZAkLtloNI54xW2EPcbttuuwF4rcVsO/IZWgBTukQ72HgxiRf7fXD1k3nKnTmYEZmOFfGQwb10KnL+Npgu7rEB8GPXxvjk0C"
    "sbZUAf69fM5lf8BPeFoI43+e8FLMI+N2xUMP7/HpUiQ6xmlrYB4KU4DOvHxh+8jfkW+nlO5VlB9/n0ToZdu3RR3Qh5cLMZ+e6kzCfPgq/t0cOs8ZXAu/"
    "i3eZuzb8hQ8mYn44bbxJFf5rCVbMTwtEHXdAx2U1byKqWD6H3klmfwFuDWyHP3FEhooWka15pBL0gqQb/NW78rcPH0z+D/jNcGKMfx27HvZCImsO/N/F"
    "n4T4ibcfy8yCjpZ5DX14hb0DceNEr3HQO8dLxWGXsKRDp3RoW8N/pL3rAvzptmNHQ49L+AtPI7bOOw/qLvkLHFLTJIryyBdH+gvSJQSg454vQDkNYROA"
    "/1NqvoQE9PntAuj585wp0A1jhMvhb5VYZIL8hmyOHUr8fttkJMpXlRPreOFL36sQ1608DP+dtvtN+DXHr26GjnStmAR/rlnjs0nIn54G/MQVbitwveWW"
    "1EVol1vqsV4wu/KoMPzXf6qivP9U5rb9kfZz3P/6gZ9pdxbTYut/5PpjdZyJsF+6bJ+gvdy/ptHrX2SHfzlxbQzaTej7VtR70gor2FEc/Mvh/zeu3mHS"
    "689dD53N2tIxF/k/yQe7MESCFe30ha2HO9HqUjzs1C7PTfAX5wWzrkD7nPQA64xxXXKwu1RfdmIdRjNYH+mt7bmO8lPzrtYjPnQxhZ5dfijwE9Yb6kfJ"
    "wR981QzrAvZTpkGHXZzYcAF6tMm1mLguf7ks1vHeCiti/WziYqzvdrK+hr5ccmQP9LL0yJlYl32Rv/U69DpfNnTm6sCyQKyTqn+HP3hnoh/8q/wn2/Fe"
    "4/5SQ349P6igHS6sXQ3/rAdnttTfGU9Ug4c4/Z37Yx76LGRliLvUlSqSLiz19kc+LZ33IJ+FHeewPmkxTRF+dvPi01jvrpllAf9vzrAa2NX5XbOw7lWT"
    "Zo3+GHC1Ge216LM11oW5oxWgR3X11HBdlbQFxoPDo01gh+lunzKmv3zuTdpQBTvr5UT0xy+RvfW8LmNkb/s644hxLZmDFf1fMiEZ4wS/HTv64+a5r1OJ"
    "YoX6uG7j8YN4fkKSH/pj+bFdrPTeC4SvY3xQVNwGsjzZBz9DRi2rJdrdJmmsQ2Z0XsE881DjMNYzghem5mK9hGedL+rbfTPa5djn+9Fep2ir6WN8GnkJ"
    "6/EJbnJYrwmuOoB+841dUYTSFfSwPEvx17bZWB/Tdoz5C378kiUriZV6CrA3UnZKYt4YrekGO3Pq+RisG16WFYJ9t1YkG/aLl4Ag7I3YOTcDMK7VFsAe"
    "YxOUgb21e8sJ+CFuZVkUwW6XWwu7hHNzCcpXqcAB+xHYrBpgH2qxTIQ9lSm1GvV/bULlfIyzPLkoz6WXlXj6tC+jIviHnOJaUU/tXP7opyqHjmB9b6+t"
    "2hL4Va5UYfzX5RmC8X/Y9938v1M/iEfnwK8TfdscdpFPptFNYqmrMezLJa9nYv3p5jw3jD/yN8pRf3UWTlinTNzYhP5tvNkO/punBb7o/8dL2lxgf16y"
    "wX3r3wmiXZ+uEcV4mTJ5slBvuQX0Mb+maLCIM8YzMz+eGCj/RePyevcLlD/GevgGqV3It1ZrMsaDx85f4e/SklUW7e/+r13Ph7P+jfIrGyuIdq8ezT2S"
    "9RfWS6mIscHPpLdhhxQf433jzRUtfiYdrmvbplPFWCdFon0cs36bScfb6qZBX3Lt50W9+8Rtf03nv81WwXOVRMUxPu2Vc+vtXw618PudlGdB/xT58xL8"
    "uz4PG9HfMk4uhh/YrowL/Z3niiP8NCeHLsH+CqZ9zgzMwAz/30K4kafVj4zLV+69GdXf8SMzWo72O69xCgn2l758d/O1H3kuZ+mM2F/xvttvcrdDL+jM"
    "wj5GTclirEvs2fVo+M+kV5Tw9PHvqJet4iPG93c877zoqv8T7abSK+pH6i/vQCzsiBlsHKYD3Sdw9M3ZX6lfvgT17B4oPSk3l8DBpCPzqbuU0rmWoox1"
    "13089tg/FSHy2ai/9F3/MpBmPD7hqM2s/q5bknfQgY5fYP0CHcrqIQ17pYgnEOseVYtmYh/YjGkRWG+LL1kPPb81qxb2SNTiQyMY0zv3ZD/s5n2m5lgv"
    "NvgwCXa6Xs5M6PdbKlHYh/xRb+r8wby3+tUVBYxxoSHtKwe6Prtc3xz78S4qw65cnH8Wdv5l9ZuXoAt9tqK/LepqgD/HYKLhFJRLTBwL9FXqKtwfsJSd"
    "qbeYgRmYgRl+YXi+7gz274YVT4QfKFy7/B329fsexTp6ZcwR+MFkbJ/AvyUmmQD/0/Lp3Y8Gk/61xdXYr1HycV3bQNeVKKUIUbo3Ba4HE020Jo/9mXk/"
    "xpsvbDD3rYrOMRjo/EsNs/2M8WXXLlf+nXJ+dymwnDFfe1QDNjPGOyOy4aeNq54AP2HQnCHwx827XNiCdYqGN+7EbSIKy/5OPjZ56g5qP4+K7NG8X6G7"
    "pqg/d/2V+m14vBzWd9IXZWA/hcF5U67+rnvg+VyGmBwqHt5Hp/LLQEZ8co1IZDx+sPU76jteNEia8bjLHhHorunKVfj+yftuuDjxieMo7PPRTlpzEd9p"
    "6LM2DZTvrLQw+JHvPvyCdb72lZED6vaXnTvgR2+uv9Y1mHLZ8qDFgbGcj6l4J1E86lPR+P7K3+JDYfhA6WVe3ipJ78er8qYS+9OSbqM95FVwNeG7ppVt"
    "KMjHucrgtJeFY4mvco2giz9EfsM+/47ZieqU3pzE+JnIx4sD0Ht3J1+F3XXnQQQX3TfimS++RyqrGol9ixzD1vIRY+xM8d2STknCcKJUucU3uk920b4s"
    "4tPLo65jH82eCcv6e8/0DY+wz0/2mSv2czo/Ccf3XW6WGlj3sdHZAf3busahj+5vbQ93+ifG34D0p7K/Mr1ZUbe+M5ZDns8zt8HcN8N9nsuP9FMPVaHU"
    "n+nXFccKsK/s0uze71n+Z/CfnnhuMOmuXXxu4WCuS2Ttes8Yv6PChv1XRvvssb/A+RuPIeP5NKcxfPjB9O8yAzMww7802GVEXYHf59m4p1hX5hnhiO9L"
    "M6XuDXSfkvoIfK+pOvbREsbjU8NM++jfZsdta4jjdhZaQOd/bbDqL736Oq+/pZu/F7BPHcx17NN7xv2OctypugI6cUWiZFl/53N0bmA/TadMau9+Lcsl"
    "2N99+xVz/mAGZmCGf2do2+4AfdylxIn9VYYypdi/srOtl96lXliXmOUYA+aOVN4Cv4ptD8jGloJ9vJG3emmvvlefxkPnW06w01Trn+H4IbYNuL/ZyAl2"
    "itdnTTx3lHcl7ORY7QegKFcVKJeQDbu53SEH1Chfhe/lNz2W16W4E6sl9kO2OCbh/wE0DXixH3JZkTPs78PpJZgnnPzCRsP/NYYbev9K5JafclMcXR5z"
    "jvU3lP/LhqA+/injDbYBrP9g/dfW1cMfYhV5AI/tvLQB+58zdnH3/i/Hpmew6y2tQhr+ifxEZLzDPpw4/igFxuNRUVf72LfjPjTgu7YCT1HsG/cQS9P/"
    "kecIL+IVYyznlTXPFPsrd975UfBHnG2VxPpb24UW7C9mN1Ht41eJm+SJfXueKgrYt9S6xz+yTz2fyOdiTN9JQxX7FL9HHonpL3/eDbkL8X3nWcPl/eWr"
    "NvTANMb4C4PFyr+yHiy9qg4P5rpsrxhd/N8Lh5MK5bdlWP0Hxvze9XVewxhPy1l17lfmc9+HOx79lU9ziFYeY7zJvek9/u8mtaSij+7kWz0C/5tSL9Zn"
    "/3eoCl/xPzkOj0s62Pkj1wvOFpNhfG+rDebGv3LcWFpVIj+Y6+Tn2778Fc9TKA+tI/LtEFPq7/yL13Y3B5PO3mSfVQOVw4WrMRqMev0Gn4TOj+Qz+08j"
    "rIc8DLKHnz5w30zsT7a9plqD9ApDsF/l7NEz6J9qV+wP9/bPydhHf/qWBr5f1HK2wH773PThfIzp3wxJxLimtSkA6+RDfQKwb7VU9xH243+ZYtjHXrP5"
    "NIxpfzADMzDDvzKwTu6ZyRg/9EfXhsHc5++SMqAfKMhoE76D0fLp8v6RefHBy71pA513eVJey5ieh90bLca41PsOfN/Fw/IH/q9BXablFOyk4EB8hzW7"
    "MWRof/nxtDRUH0z+PsZX8Q/0PvJrsNzFMmmMNf7nQFFlD9a9UtYH4rsb3o5QxL/dCQNb0sPB2D+9QVXThn6Tn6K+bT7NM2a7pXx/pc4471uq+TP3TXpv"
    "jX2Ib32UdvxOe+mCy711P5K+3fKApP6O79j9hp9xnk6222RC8fPrdmM/Bme81D783+KK02rEXO3TFdgHECKG72a5Kzz6bZfX27mnMubP9kPkfPy/iPtY"
    "7P+rbvUV+pH83x/qjP83dLq3vI89cVPpM/QLm97bPscXfpbE97mvZ/RgvVe2ejj+L6XetAn6ZkJ4ML57vfD9Lnj+9mnsa2iZn9Vnn2vViAVDiFx8DX2+"
    "O5Njb4G936Opv3Aw+c91KC2j/M+0CEV88q2yeMbzerY5JozlUZNyBd+b6ovcgA50e7Ic/6uz/7kz1v3/A9ZFL+w="
)

COUNTER_SCORES = (
    "eNrt2Hs0ltkeB3DeyS2X0Ci5lKRSLilSrtFEjFyK45KWOBhKhCipoSimXCeFCkWEhCTXSoQuyFATlUuulUvlmsvr5Mzve/6ZP1qzTrPmzFpnrXf/81nP"
    "+zzPfp6992//9n5eNjZWYRVWYRVWYRVW+X8v763OnGL/zfl8odZfcx9Hu4gxea02WpwcinIRZ//d+YxA0eH/pp5XrpnFJFOBz4vu91UTfEVmNVUPsn/h"
    "+vYTiQn0u+mPNqPsf6K95dI7M0iJmficP7pfcMRSjfGbfAGxNn90nW/jjDTpOU91/M/0f57/sB3VP2xw6gZpEsBuSL8HhFtZ0rHUiP7Y19RX8mEzD9nC"
    "xTFB919KSRIkD3JV7CBtXaoU6XyQmTjjS+06kFFTQEr5J6nQeSO9D0uoHxqaFiM+brVYG9CxnGKePjlQ1ahLuvPOriFH9FarkiccvHGfUU4tF2mZfk2A"
    "PMrbgHGL6XHqIkcyouvJVJ3cEpKhpJVCGlRX+ZDskd0nSLUkgaukoG9UINmtvqSO3LKtOYtUGaguIG/wP0A9Qtd/rCT7Og7kkWcWFfaQ6kom5WS/09NE"
    "kuuXyEJy7er3caTDy0+XyR/q5EvJCKWMJ2TYevF8cubz2AWyWmYsmuQ7dH8fudfMXZdsGw6ZT+Ze6Ryk/lp2b/Q2qbZVqpKca8d3l9Tl3tdEXggdMqbr"
    "S6Kd08npFPs75MvnkR3oj4s5U+QuGVlF6j+R5NKtpMXmkW1kv8dTY7LgurcJGRTdCxdOD8EVYcHw3bdC0PvkeVwvUSsBz3jNGpE5m+MMSZnsgS1kX9Bl"
    "bVK4KHYDGRF2ZympZi3BR8YI+SC+VMOl59Hxzp81OcjmvamQf2LJDJ1/dkTqI/pnMr+bbBFVniTjU9o7SU3DLUNknPwE2nl6wrAN/cyIx/imNGzCeE74"
    "9sEZN0eMo73/ecSRkv8bPEfdp1Wanntxha0KmSRehveuZDookFlLjReTyvfzPtP1b3Md8dyjWZG9pN6LROSdg0PaiJtdy+swDmblzWfIjeExiJfdnQ65"
    "ZKdZKuLjGwvBBlKY/yHG63wQ+wfyXGgC2unTLzqXntud3YPnZx9QlyU1S/UwX1bq6awn9dKn0N9ZEdUY5wXB0yLkA/sji3BdUxyD7PWwxnxqFIhFfe9M"
    "kuVJVQ77VRjHBAZsmvwoR/5Q3AI3707D89qai3B+V9xhfnKoww39tnpexHwyV/0wD1nR2ov3rM3nW4j3iirhJR+mMf5F7drKmNtHVgiMPCP9ty9qJwOn"
    "PDGfPd1CG8m5DKGnpJXrxYdkjttnzFOxDK94Mpz7aAV59rZuE+bZGpVa8vk6S/Tr+gS75+TKxU54XsHbjdPkhTnXPyGf9a5BXA3YOKHfIzOvIH5yFvpj"
    "/Jp4N2C+npsqwXNOW3bj98fZXXjfLMFdNWT9dn3kX1+d82fJUB/JWKwz3p2Y5/XyFjGIg6umkWRja/1J0uKbHDfyROZFrBNmkWwbyD1Rx1cjf61V5CKP"
    "jTV003y/8nn5POSrwvWIwzIptgxSJmX/bdJDS7KYHBNORn8sCLpbRm7vPILrbsjaIj7z3eMRh9XNgXi/8NsvkT/0x4SRJye6aoLJW9kv9yBPMb3NkT9i"
    "lRE3H96IYZzrzT1H0C+7NV6Qg5PZiOvV8QFYHxOjY86TmZfvHkD76rrgG1UZP3LehFU1ubNwD8bLY7435oHcM54B8qYwD9aH606HMB/LWkQR3+O8paJk"
    "zz1r9IOS7XbE+6VAd8SlAtNrHP1tUDOHjtO07cfouHdKA+O9I3kZxpsvxJ4bcbtVbCXZktOO5+zVOqdFem05hfXI6PtH/8lnK+SQH/wXKCqTzuXOMqSL"
    "XhvymG2wNvLcCXc1/L5KRBzzy/+kJOahwfBBNjLFRhPxx7tjH+bDyAJx5MNKg0LkpUWVyjiOjv+IfYz7WCnWu6Iex1by/uQ/XiNO9tv2I46LxhDf8YxP"
    "6EdXFaNkxM/jDqx/Adxeb8ghLvubyDuBNVjX/BRSi7BuHMu7hvzUVIQ8H87Th/bn3Q3Deh1kdvN79E/mJRzfk5vVIWNVbDEeqcv5kUd//KcPnmPsqou8"
    "7ZF6Bu28HbBtFvOoqlMIeUP+wgJymf9ZMbLT9qMkWVpig3wruz5lLfrN5i5k5j6AmzTKoUNkInQ84AK1RJbDpY7NSuSoXCCUN1ZWJz1WrUF7phbmYhx/"
    "SjPFcVstU4PsqrTD9SO/RiNv+VbvR96yU4xB3hoO6UGcH/ezxfhx6zp/i/qllNGOYZc+TvK1mNh7uu6e1ijGh1/cHPPPIK7lEn7X5Y1CPigpQD4wl8tJ"
    "Qxxoj2MeVCpOI389sUu4j/XPQiQV68WAN+p3MDbC+QkvZ4ybuogy8sxxnQDEyauPx5Dv0vakI85n3fnfYT6JpTRjPNiSHyEvPvZtwft4rUP+YnrUIL+5"
    "aF3D+/aFtWCfXJSljv1SsZ8/3t/4jg3ub6yUwbpX0TCL+GPX3o91pUOdE/3m2meIeZIepYD58zSxGPs97bZbiK9it7TtWJd2Zu7AvKg2RX4ZVg2H7bLB"
    "cHGaPnTf3Y7rRqzMoaPJKO6vTfoJzmGeMkMcvX6L+is4Z7C/MU08jLgN2XQc+55k6VXYn6Rcj0L8Rjnf10S8SzzZiP1OYQne20ouGvGwMdUS8zf0shDi"
    "4p1M1TJS2lloBXmjbg7GpbewBXGdVKHIxPzsX4h+D+4uxHhttfLAvjDk85u9+F5qkUSeF34tiu+eVIHvsM+e68m+BHlayQwO+rVOUt4fnIqYJQ9qti3H"
    "OPq7MfHdJGBeRlpPikfi/KMwXVKjbUCddDZaKUu+cDPRJ2fmD06TvPGWFlTPqXJP5P1lRR06ZJ5zgT4p8quNItYl/YPCWG8Lr/Jjv9yXJIB80xWAdSiv"
    "TEIMeX5ztjK+B3p4LRisz2JWYRVWYRVW+ZsKs5+J9dTdcxa2jjM2Yt91hBPudPRSwvfOhA9UCPeDMVJH4c+bJA6RlobBOM5vC4H83qehM2ckHI0Nx3c+"
    "35pzOLatjIfedlfxf5NdeHYNvc+lKs91qL/MAt9DG3zXYd++mH3pA1JSOR/rZdmWh7heMrIWHmn+BY4HctuRPK78sN6Uw+j37ZVaG7GU7q9bxJnwNf2k"
    "8SEb/WN9urfpfzkeTgIcw+x/YX0N8q+/+yvqif4kYvU113dXseF/j23pXs1fak9D99+73/k3dkyB6w=="
)

OLD_SNAPSHOT_CONTINUED = (
    "eNrtmXlQk0cUwAlBQK5IOwIWhTIlDqAIiiAIpeBoFASKxaiAIsZESSinMlRSWg6FRhEhYRCoqSfFadVSQK3Bg3IVuRGx0AJymRQDilJS7BSob/lnM5Nh"
    "EgVmnMn755e3x9u37/u+fbsbP0l1usoMcvX21+aqr6lnP9JKeE21szWlwNIWzUHggr3DFlD/p2Atom1ftRGwX+DZAPWSjAk28Lk73xHsbeDnuYKu0ptz"
    "AVBvefcZ6HUPT2lCP91uNhHY2LbIDKi2MIQEzKb7GADdas9oA8lNfhPQz2o79xqw6/Z7ZUDyCdMAYI8P5yjYrxuI2QW8HNNBQe27Py8GsjrTk4BhVKcD"
    "UL/HLUUdOLT/QBI+/6Fn6UyVeZCEy11Ws2nvE17lJAHTS+O6w+Tp5xK+JZSgwDgRDob5hDfwr+X7qingLXeKWFZ9/Bp+sTx2Q3YU+8rTjk8YHcP1OntV"
    "S+jnyWXQQWdN6Hjg9QVMAxL6MaC9XVVFKUpRilLePaFf4d2BdY7bbdwFLNTRPQgUXiU3z9TPzlG3C+hg1LETL7c56dOK608PJu4HGqdW+wHv/Sfyl2VP"
    "OBDd+jbzmKwi2sjTjrhmyngu4pjqEMQHBvHNG2XV33Ard4K4vrTItwNdnbqzAVjTr8wfSlGKUt5NuSrSowFrY4vROeh0VHIssN36KKJwqdURtD5XeiMy"
    "yMNsoKXkly+BYVq0ZKBZ5TQZjpkUWA9ZlUx0TnN+cQaVr51cgfqHjRuEorx1rW8fMCvryF7gH9Q4RFNDNuKHTwOCgOd/DER0agq+DvZat5W5g84kUDuB"
    "kVE2Lsjug2yUPx4Hi82Ai7dRlqD5xavpA0npX+m8TZwuBmYXE+Yg/n2i5M24vjWGlkCYx+ffMyDMAvpn5KBhX96KOQm88o3WMigYjO1G53qqP0c0H/6c"
    "uvJ3ETBXn7cKL+fx7kqdb40lovXAqsilq9E51aSAosg4S7brmeBx3tvevVpW3PW8eOg+omjIHL0/wzen3y+it4PUvUquWeRv6H20X7UG2g+diM+Qes4/"
    "/KqJ22c6OQjQd5VxIVuWf4dEAl+wc7LII1CWXz1pOba43rt5x9rZfA7U6Lbz8rS7Hp29EfzLVWPag7/ihUIJ7m89m7Uf1wtuBBfPpp9cSV2ErPg85TiX"
    "4vpg+OAYtLPNr22R2neS9ulCeajQhIaXp9mT7s/nOmx89tuXirRf7G5igc/bP+azrbO5buxqq10pT7uVXrS+2RhvVVPaAFqnU0zsZNX3PqFXyGMn81xc"
    "8ExxuHk32wnfr5eTPnJTxM/rX3h2AH9PZoTDOElcV3QPSbvn0I7sVXNOA4su/oy+z3V3GOenv09LlMcKK51KgM4sv3Cg4LI2CbdfweGjdc05NgHlTY24"
    "BJTvGjZ2MID/WntIndf2jC9Unj+UohSlvJNCsJxyxfXvlo/GyNMvPvTSjPdAyZ6x69A6Gjd6SJG8+LAvs2Cm+tDOph7cXgR9xBnXyWPPhUAdleWpQEcL"
    "8U9A1WNJ3kD3vzgasvyJpHo4yuPfP3lt+vLMx8xgdz9wS80gEXjpcFI+sDFMjHSu2xAi9f1hRLv7LcSZ7Fk7JnpBntl2nMyezX1GCbth/Zv0MxvbzQM/"
    "XsTZpczleelmaHOUIvbpgQlnZZWnHB/Rx/P0OXqsN+glUcd7wb56HpkLZAQVrgMKPi5sASZyTJYDtVoiZL6XZc+0bHD/aJIML9DHw418QX80xDZUxP8H"
    "GqxMaM9sDpQ6T1TYvUL7F9VNL6TKfV+ZLwI+cZlC//daPdIOQfcGPoNof2OafuwwiuNkPWJJTWEAUOx1bRlup0330wVATZLIAC9fQRRvBE6tp/jK47/g"
    "QEMj+O/ql4Z0y8rGPLx+E+2GNx6P9kt3NICUD8rRPjCsM1ANnkvWY5Ye8H/K6scm"
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
