"""The default ensemble's scores do not move: a recorded synthetic run, compared point by point to 1e-9.

The expected scores (one gauge series with daily seasonality, spikes, a flat stretch, a shift and a
drift; one counter series with a reset and a rate burst) are quantised to 1e-10 and stored
zlib-compressed; they were first recorded before the hot-path rewrite and re-recorded for the intended
changes of the flat-line decay, the spike member's heavy-tail choice, the refractory period and the
sustained term's wider tail fit (`SUSTAINED_FIT_FRACTION`). Also checked: a snapshot taken by the
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
    "eNrtnHk0ltvbx00hs05FExInlQwZIipNSBFJkUJK5ojkREQiJRKFRGVKowZDylgKKUmlUUQiQ6UiSvH+rm//PNayvDp1fus973r2Px/7fva9733v8Xtd"
    "e99YWJiBGZiBGZiBGZjhfwt1hU1yxJsdCz2IwUdHHSCWHfRUJtqMfchDzDQo6WL9D29rR48iyuTrriEabG11o9+75aQDiGMWRNYR83NzZej3uaa83QM9"
    "Vyq6U5Z+v5KgU0TxS6/NwAdfhGuJG72ezKbf1fV7+ig+flaQNbGlJvA6cUoM+1uif7zLfeIqt9pJlD5t02ZOigc4WGgRRRODzhK3tuWU0u+Bw5fLUjxB"
    "/bPNQOWaHMH+gTHuuzxiAtHVu0cIz62xXUmUPLVNjDFdUXUjH1HvXRDSZWvZChAz1h0+Rc+dcL94+UDP49M7ZMT2HzoJvTEmPih7N5842T9Rjpi9JEWB"
    "GJrg957yuXPcZQTFH3qnXKF4nFLAQ8pntqJYxj/ZT04X68yg580KvnqYWMo1/SDi3ZMiiT6vjoQSE7bV7iHGTw0MIgY9zNtJtD7z1o84U6raB/2me1Mg"
    "sVPTM4SYd8gxnGh6QAb5jnQdG03kfWKI563PuBxLbNwafIQYk/wJ3MRaDVYVrgCzDacjXZ6KQQxRO+H2IaIyFzvK6bDmxX7in7sV9hG3ugcEE221W8KI"
    "JftaEN+lvwHlNniT10f8+uQQ8lHMr8F9veuvof6nhXaMpvYwDbzeQvEzU/vYKV45f8QwonDq6ja6bqW1tZeosOQaG133GfO8h+JHGx0wrlhNb30inl2Q"
    "/IrIl+T8lBjKt6aY+N6u+yIx9bxtHOozVRfvY1ep5I1y8U20Jl7wrzBGugsKasSo0OfjiLfcjmO8BT67PR75WgqyE/n1d2C8Css55GEcsZdEExMd8lzR"
    "8GlfdQmFC+UMifu03ikRY88P/5PIE54PTpjDj3G1WWH8VIy3kjq8R+KZbneKB/Js8SOuyxqdRYxp4vAirm5xtCVuUeRF+h7jt03E4VJPBKieNu4wPIB6"
    "2Rq7injkscIiouTbZMwPwsGb1IlcFadxnxarkgXxe3enEbE+OmUB0XwML9KvVDZG/Sh1LlpBHKehbkCcspVLgyjusViZ+Dj9G+Kl6+10iZlulkintXe5"
    "A/HmqAaUZ3qJrD7xWrY2yvHAvFqBKL9XVQz5zWkURvlkCnoxX+k8e038g2fCA+KMcVwN6GeqhcPQr7QbPtH1kV732oiGcddfEBdURtwjapX6qFC6q342"
    "uG403x/t1x7MjXlwje951O/GFceOEus/ByVifkhRCiP6Zb3fShTZWbuOqDvyOtr1nvdJzJdVM2J0iDtNHDWI3zQ0FImT5B8toPYQaGHB/Cx6p6maqJo5"
    "6zaxZ3b8VWKU5LvTxFGtb+KI9r4B4cTRfRxBxFplne3EON5I9IuEzjxH4jHtdRjvJycYJ+B9HojHENm0Q3B/nUXtHmLBrUqsM3l/CfsStXtS/iI22qUi"
    "v4ycl5uIZisXOGBdE+JPQv9Plc4kHgrXw7ho0DHvod+5XilgHBTqiHyk+PlNLPVEpy4dtI99fV850dTDp4CoabU7nciqW5BMPO4oFEV8YTMmGO9tIIL3"
    "8xaIdCG+4lcfTvkXWDT4U/ypYALG1cc57pZ4f7YzBkSN1Cj066Y9OaiPwLQt1yg+1XMY2jGqPhzvHRF8xZ2u7/Sag3oOmOsRQrze7o95IG7yl+MUN/Yz"
    "jUT/qZuHelQVMEN5BRIisR5uyXtzkmgX4e5DvOVYa0W88VJ8DrXz9BkzsR4fX5mN54z/VlFFVBbIyiRejJikQ89bwNGFcfD+7trRxLDl8ejvMWOaMF/F"
    "PZ15myhxXBR6QWv3nHzi+UJfrAPhshZOxNz8IIwzzzV752H8mNlNIQawnZ6MdSYlbSRRQDK+mZ4//MNC6ACOlgOHicUOyjdQf4o90AFBmd+eYdxoquQQ"
    "h53PQLov2xP3ov91FaOddhybgPcxOhiMengU5Ib2iZbtcoYeWCu5lrjhWuQ8rPtnHC4SVdxV0G49w0Q0iZ82cq5gY8pJZmAGZvgXBqkXP9ZJI51X0PFf"
    "TOz9iZ/z2ZyhX83aTIianv6ziGq+HdLElLJ6zPt+HiFfsC6s8G6HnZa29yX0CltpGbEzOwTr570pMemU3tB3whuKPwkOf4r1avySR8TwEcnFxOkd9fnE"
    "VqOF0DO7lu0+QVxyRQbrWzE/F9Y9sZFN24h7HuzHfG1sFg47y6fKdCPRrV5rA7G6LjoVuq+W/QLF45OXYd22vMN5Bun3cEDH/SGRAXsqvCNXAHZBHDvW"
    "qZdstRyww558mUi8dte3DnpycU0O9JjUTOR/aIIY7JhWa9mtxLU+xlj3bo/Jm0+saN6Bdc1eTQPr5PrZI7/S85KW1UEXfnW8AZ0ntEwIejylKxbcxS2C"
    "dVt/vekRogyPL94/9C8XrOMf7i3Dep+1ZF0gdOUKHuiigJmS0BMjnBShN4xHbV1BXCokpUdc6LcM65jT+viFsNvfSWE922/Zogd9bL5rM/SWyrz1sBMy"
    "T0HHvhE3hK68FCKQhva6PzqX+H2MiTbdt/BixTvUr4TqY+iXKS3oD0sPsyAulfURepHzsizykRx+FOVOdZBDO75yy4EdJyd1Ywn0MUs27nfXTYLufSfE"
    "BX18KyQFutw2aSMP8e2TMvgbRj8Whp62KnTlI94vdeGA/Viehnh7ex3S+cvtRf88JlMBfRAZ13MXOkHw/W5iw6Q/0Z/SVc6Mhf76uBR6NEOiZRRRyX8y"
    "C+WnerTWDDrR9A8NxnEVdif2zkDj7e7MZelDGZccHM3QJQaWEvfpOZaiPbAr3jU9Qv8197v2GXpTpOYy6vPCD70vG1aE/mCqOWoLdGzHBbxH6HYd2HOb"
    "HmRBz7R7p2L8NmQ/hN71yucIxXO/2DhivF+JQf/7yPOiEXaespMb9F6BGRv8Gkny8JdwzlyL9nkoYfGc2Fej+orYLM4LTs5Wx/i+pCmI/CrsPDHu2hMC"
    "0X8ObXHAuJToiEzF+PMqhB1a46ARAV09shP24FTbXdDrKo9H/XjuNvdnPyraEDp9U6buTaLJtybMH3FG5ajntT4jl9N983ozkX5r1tlSvGfinmtE3ojE"
    "bNSTuyzKYy4hdgw6800kxpuugF88ceZiY9RPcF8Pyj9CbCv0tRBbDvqPYXo9ruu2tWNcr5RbALumrHM2xs15Uzf4s97XroO9MfaFfhP8bXVX0K9ZrrtC"
    "Z9eu5ayAXZG/CP0z7b4E5kUHhR6Ue9+ChV2wQ5a8xn2RytJ4r6III7RDgs862Ge50eMxvwpGj8a4U1JUQf73ktLR3g1iLbAb7VhCwLRNsmNgh+sntWA+"
    "aHdDu5cUKtrDH7f2KcbZ7e9xsGsStS5gXPWIZ2AcRFzz/A67vnUWxpmB4/A/iN/0CkTgH9kiJkHsXm8Fnf6HeQf8MeKy232Jl7wfmRJ3uyUvJZa3vtEi"
    "evBkw+6V9HWZBj+OTNpE+Hmc+W3QD0MPyMHOYynC9furFOGnNKsO5SZaZHXD3mNp4GXqdGZgBmb4V4bFb+yg00et7jtF8eXV3PCXjVm/COvT5kZhT+I1"
    "ztV/UrrXrTewfq7a3A19NV9YBfseuZpOM7BOO7qqY10OlTtEPDGhSOifKLd9co8V9gm84qGXrT+UvKfrarnFWE/PfzwGPfcqtgM6+anTI/hdnMVtZhPF"
    "H0pgfbiwxFOV2DyJFXYBy4F18CvGB77Ge79NeQa98620GmQNaYGfc3KlInSZ/Tp++K9Fmu3hr3592p93KOWP2a5pzxj/JroF9sK28xmToTOujhYmlj6X"
    "mYvySjdAH+axv0d8WtnmcWiftjuS8FuynIROqTlpDr3d3JMFP7pd7IjpeG/eMQrwe9alg8++PAVD/JrHI72rJPKPs5w0EjqqdhnqaRjbSHnYAyKTJiH/"
    "mJvi0KucybugCz/dxb5VoqI+yuu1OpqL2FuqL4T6VeWEn9FiUacKymuZAP9d77oi2AHOK1ugI6+WToSf2O+sAvz9q88/wXMqnS2Q/kt5uDn8am8eL4De"
    "Nz2DfUYP2ZN4/l/KPNjPe2T3EvFpoX4oT/0BF86B6v+UTyF01ti8U9hnKxy3n5sY1BeJ9DbpI4bB3pxsy0Hc3ckNGitEQ7+s8XNAO6Xr+qOeTznUSBP3"
    "ftNAfFLpCfBEA2c89ns+WUM/lWwL8oa91bUJ/uWk53thTzkYcsCuvNxatAY6Utgc/v+ZxrqwR+cKZaC+poqII/2pM4KwC+/dmX8Q7db3Af5sz1A17ItM"
    "j02CP1JBdDie42xbi/42qd0C/VfotivsC1XpmUboJ32FqL8DVU3w3z92NIAuND+6sxv7Xo0joJPW65yG7rOZrgD9ky3RdBl+2manW/AjPx0xneg+yUWJ"
    "WJRyETotaJEo9Kvds3DUw9Ge4dhnYBUQg991vodkEtqrihv9yletF/5gIxVP2KURxrnY1yloeoT2Pxuagv5h+HIddF+RT6P0r8wnqoHD7H/l/qjHXoas"
    "DHHHhnJF0oV+9zRRThOHEJSz+H069vtOs/KivWRu7MN+d5idAuxmidWXZxKfP5yIcfBkpxbGo19+C/pr4odF6K88h+Rg7988JY10QW3zMR8k/KEPO+zy"
    "SonRA5XzwDGPKuzbvRTFePwa/qOddwXwwI4TFrTGvFbN/g3zSBFfHOYJA+k+EeK2Ba9TsH9/cgHS7a+MwfNDub3GwA47EcxK710QlI92THuwA+SJO+CE"
    "fZ58FhPiLM/J2Ic8qJOHfZ2T8cexfxdomAI7vvekK8ZJ09ht6Je2cQcXYx9KcKY25rHObOwvsayfpgp/+tMYKfgL2BXHYj1zMbmE+dg6E36Q2bZRz+Dv"
    "L1tlSVwWJge/f2CVFNaN72HOsDPlM6Kwb5g7VQT2nYRHJuyXZo9RsBOj5xdh3/nh4mL05wtBMhgPbB2nKzHeZVaUEF2m2cHfU9hVhvqV0bHF/ofDiybY"
    "h0ni7qjH+rVp2D84rXcd43uLcNRqzHu8nfCfyFblY78sSq8E/qGDnLqol9bAVRjXKkcTsb8X3+H0o746ArBPlR2agPnSi2elwQ877Dn6haU8P+rrYFXc"
    "NPgrxKsnwi/EH4j2W2TgjnmTI4kH5zSidwSzD9bvJQ9lwa9zqHQ57Davc3pFxDm9RbC3E3hc0P73ldainwuIl2FfqMHYHvuUbW5ToDOWbNuAfZN7D11x"
    "XoQ1oBHznvjZVfATZdeN1sf82zQN4yNIxhDlXjaitN96O12dRZIxfu5c1+nByl8yLgfjsaPi+SXsB7Nloh67pqZinnXyK0c76CuXTxjo/m+fanlZf2He"
    "uCs6Cv1e7RCPEOtv1EflY5fo/J38PIKkBRnvm7Bc0fjv5MNd4D+D5oE1x8LRP95Oaz8HP26tPPytypf40e+9Du96jf31eSp4rtJ4ScxPL0WdMb6MbF/C"
    "n/FkPgvG59ukK/A/2Ixuxnh70bMSfuAj8sMx3vnybOGnOcO1KoqVaZ8zAzMww//DEKbnavYz83LevfYRA11P1GxNGnBd4xQZNVD+sj0tBT/zXM5yzejf"
    "8b67inje4Ryg1lycY5wldQv7EvPau2B3swl/Ef6Z/EriXjz/J9plhyT/gDohJ2O81f+JfvPALfJn2i8nJhp2hCYbh8Fg941Mar/0O/XL14C+vYPlJ+3s"
    "uHMo+ch095TjvFSyMvZdI/hssM+wf+wXvYHyd3qmM5nxunjS2rkDpVuVc2QjXb/M+hV2EavLZOjGEr6d2M+rWjGnFfWmsB/7bc4um2G37Uh7CXvkuPAR"
    "fsb80qsPTkX5DJZjv1jn80TY4bqxGujXn0TC4ZfoWiS/dCjvrZZvcZMxLjLsneVg6TMrtJfTuPLNVoZdudfpAvZv1CsKr8A+6N2O8bbM6jX8OToSi2Hn"
    "s0QdZoG+SrHC/X6m7Ey9xQzMwAzM8BtD7eaLOL8beksCfqCw2RUd8Fd4J2Ef/UFUIvw6MtbV8G+JScXB/2Q+o+fpUPIvWPkI+/dlXZvfDpauTCkZ/tyi"
    "kYX43kJfY4ro31n3o9wFQ4dyn9WhLJ3Bfq9XNzrIGF9dkPvgV+q548rOCsZyhaj6bWOMf9yfCX/a4Ufi8BMGzB8Gv6lubnErxU2a2jcR/cfKrf6Vcni6"
    "LhzSeR6VqUk5v0N3TVerdfqd+o03dhr8mSdXnMV5Cp0MA+6B0j10rZWBHtonGdZPpwrLQEZ0O+2PZ7x+pK0X7R07PmAy43XHkLHQXTOUq/D9k/udMEli"
    "te0InPOZfWx9NpVjkjZr82DlTksNhR/5zuOv2Cd5Zxk+qG6v/xgEP3pLY8GnodSL78PWjYz1fELF/RjFI7tLJgxU/8afi8MGy+9c7g4pfEeh0v6A7uc4"
    "Vor+kFPJ3UwcZvkWFfn8qjKoUF8sSnx1VQ+6+HP4d5zzfz8vXo3ymx8fOwflqIuB3rszJR921+2H+7npPv4ab3yPdLdKCOcWOYbbCRKjNhjguyWtsjhe"
    "onSF8Xd8b7AiIo34IndEIVE6RHz1QO950uMpzvlNrXHCeU6H6jB8L+Vsoo5zl2u1gqB/29Zv7Kf7296F2f835l+/ky+m/s785kbe6GWshxyvGueh3Ke5"
    "SdfxZ8api6pIyt8Z15UnbuJc2ZV52q0D/e4zIz59KPnarUw3HEq6eNZPnYzx2ypsONeqF2GDfVGH73yLGX9PtR8tiD+Y/l1mYAZm+JeGDWcj8+D3qRn3"
    "Audl+Phtca78nPS9we5TUuPHOV1V0aerGK/Lhxr0078ttv7YPx23u9gYOv9bk9lA+TU2uP2Sbu69yS4/lHTsM/rG/RP1uFvVAjrRIl7q7kC/Z2ldx3ma"
    "jzIpOK/FabIK57tLXzHXD2ZgBmb4d4bkHm3Yvd+45ffD/pV5iu90tibMwfnbysU38V1P+Y5HOLebkTEd52uKuNSQ7nnsHdxnPnItvk+yUTugTfOhww17"
    "2GkaH+Lg71funYbzOM7do3EuZkNaPezjgwe3YV9hQvJV2MlTZszBeiPRstoCfoUeX1C9wgrfyz8wKsQ5JHtWE5wDdN0sj3NmzvejsH7UWrXiXM8oI22c"
    "Rzrnw4H9D8EwX75fqack86h01n+g/uubAvr5p5Z4WPux/hfb/2VDI/whZuH49yQsH6944Pzz2WAe+BOaPWtg15uY7Wn6b5Rn/9kOnMM5LBwpx3g9MjK/"
    "n3077nPTLOJN1/E43+Yilqr9M88Zs0JAjLGeLZ/UKA5U7wJLI+GPuNQmhf7z9vKP/sWur9rPr3J4oivO7bmqyOHcUluIT3i/dj59jZsxf3t11R/nFMMT"
    "owYqn3vTVUN833lpsflA5Xq5L0aBMV6ns1L5d7aDiVtVwlDSZbpFLaTyHeawV6Hytg5v/MxY3jveDusZ46lZVum/s5wRn2+7DFQ/LXs0chjjzZuaO/H/"
    "blLKKvvpTsF1/HTdsVHMmvH6PhXBW//NeXjcsSMffyb9qHliMozvbeaxfMnvnDdMq8pkh5JOdql1/e94nlzFvgbM00FiSgP9Xvd6Q9FQ8jlw3MtqsHq4"
    "nB+lzqjXrwtO0vqZcmb+pYf9kMcBNvDT74yYg/Op1gWqT5Bf8R6cV7mUdBHjc2aeTcKP8TkF69iFG+r4v1gaDsb4vzBXT/IKMuZftCce85qGpx/WTS4v"
    "P6x35Quf4juZr9MX97PX1nYPZ9ofzMAMzPCvDKxT+uYwxo/++cljKPf5OCYP6gcK0PPEOX8Nr0/uP7MuPqw/kDrY747VFS8Z83PZ0K7BGJfufI/vu/hY"
    "/oQ9pCbTep7IFrgT3x/Me7OHi9JnlXlAT84dZ4lzla4mi6Gz24bzSWC+D7qJ7xCCFbZDb+79XoTrXbFVOF/ll7sN932YLIpzYJ8bOPD/HcNWamA9mTh6"
    "Df7PgW5pM76/SN6yE9+LTHtRj+8d5Meb4Ts7kSIOUOlW5aDfaUxX819K64zRXmnv36kzMrzLZ/2d+yZ2rsE5xA9eSkH/pL102fHe5p/Jf4O537GBrgft"
    "bRdmXKePb/DUp3jG5r04j8EZKx1BtLG4MBP/v2X2hUqcA9gjhu9meSpdBuyXhe945BnLZ/05HP+noHuTKM7/PWrzFvmZ8t/ncsD/N7S/Z97PnihS+gL9"
    "wrboQ7/rhl+k8H3ua80+7PdOfcRrR2w0aIa+EQ8LxHevl3vvgBmlF3CuoXVpWr9zrlX8y/C9JLdgU7/vzqaxt+L7mb5Z2oZDKf/VjeV38f2Q8T7Ep9y4"
    "G8v4+yLrLH3G+niSnIf+rz32OnSgc7U5/q/OwVoH7Pv/D54HfhM="
)

COUNTER_SCORES = (
    "eNrt2H9UzWccB/Bu+jlXt6aOX6GszTapCNUyFZlIJvoplR+d3TY7W25dlMRJpK3csjMrdevQUmlZ1IiEUBxKtaZSriFEERWFinm//bM/HEeO7Zyd3eef"
    "1/l+n+/z+T6/v/e5KirKpEzKpEzKpEzK9F9Pdz23xQieO1gY7dWfcuqXDVzgnnPxI+B9mXiE4G/5WeuHtr9OnIbA7ELYM164EuWlNroNMKe29I7gJc9f"
    "jpKn4P7n67w7BW/Q3uNjFmVBw97Eva8qr9vhYaP6XGHEdu9XPSet7h0Dg0RTHr5J/+8La/dD/HanmDw4L0IwG/cjYj09cG3U8dmD/sQ71DZdGzZqqnej"
    "fNquVF24SrNkAfQRnzJDfuT8Eaova1dw1tnfoFFY6iTkO89sG41+qKodxflR0OjlhOtxZvs+g6nOC2fA6IezpkJ9iYcddLg1wwxu0AwdAo0ehIyCmXP8"
    "BkCvzs9ZP70LwztgU6uC42lhrvkAuv/y9CF0yK7htffujX0wdb/iGfvrpvVwxPnQt4TxFlrLVKFroxbz3dy9aduh0F4o+zaczwvv9vF6/JWSa7D8wqC7"
    "sG9zWj0UGUy6CJPir7fAP+Z48f2taZceQ5ecBXxfTHqfAQxr9h0H7xcorOGv0xIdoM2FlpmwuNF4Njw4eBNtkcpmwZzMJey3Xafa7VleLKGNHhL2o+YZ"
    "M8ZT27t6IvxF7sD+jkwomw/PTXFaAANrNlPb00J6ufkK8wU2lfOgsVOUMyzXSZ0Dz2pFc/y+KUp3hL1Jzp/CJ7MzJsB8256RcO/BobpsZ8JtDZgUOpXj"
    "807T2JuwNy67Ebao27Jffm3ccR/WTx7H8dSwOtEMb8UsZ3/WeJn+Di2vRN2Gg7Z71UHb99wZ7/yOEJafO/rwdaglXVYDdSt2HoMrfIYfhYXii8zPmxHI"
    "90SpJT2BYZtMOL+8TthYQJOjEZbwy/fXmnOc8oI+YHs6ozgfk3tKdNhvd2fqQYmVBtttUvfN+3B3ZKIJlC5TMG6Imj+vPfw2MG695BrHxyDflEoGydiP"
    "onWjOK5bDtVwnNV85nPcVaSlnA929eHToEaB+2SuhwB/lu970sB1s77YjvHXxCTzfZXd0vdgzZKrnN/Cj79Wh4XfHWE7dlT5sr4Db8ziOhU5ZhrCiq2b"
    "WG+R90+89pD5G8H5ezs5by83KBjH2t91MDyR0st8jTPNfL9E35H1eSYOZf38jyWyvuHqGVbwk4Fbp8AD+54yP070oj0drQlcD8VtZoyn0vnlQBghteX6"
    "PWfU2Qqr3RXVMMPPiuP/Q07sPWgoN+a6dNFyucp94GctGnx0YxtUzM3neNfePs91Kbqfyfk04epizp+4ggjuKz1ZA7j+fe/J1Nh/FWYc70t2A7h+f0zv"
    "4/zuFgZqs74b1DRhnb0PDdL7QMB5UlbcgzhfTAvg/N+8dD/nX93OjFq49PedBdB+WEMqlFuGhMOJzRWBcJE82xmeTvS25HpJPTkLTjow+SkMXJCcz3UT"
    "3MJ5fvLmgUJooFbK/rFYMqISHjTO4XqY3rXsCvf1J4/4nTxUuZMOcZjA+0WGEq6rMIk34yzqWiGHwh7JQrRnW7D1WI779XSOi3/cFu6HxzavYD9Whnef"
    "h44Lq4v5nVUE74am8be2wYu6xxPgjWEdcez/bs9SaOcXV8Xnfp54CV6zWMz+2v+uNvfDtCJtzps9fi5cn12tJ7kuOx90cN6ICku5Xhz3p3C/MjLvmgsT"
    "fyh1hfcMolj/PdI7VJ7yjCqTMimTMv3Xkm6MOB62eX4vgV/kFvM8JXCSWcLVu2ZOhV+vqud1rEOjB/zRx34V9tVkK1P+HhjQZl6E61ydNfwdkBuVyO/p"
    "nOSp3L81tpQf4XdkfB+f6xvfxN9RYao69GnkvBJorhXJfV/l+kA35b6qTMqkTMr0P/5fMMWN34sj2zR4zomTl+yD+n9+9RvPV7FiTxgtU0yHQ6tsJTyv"
    "pa3xhUFFQ8U87yTkdSBeermrEwzN1teD53od+L/hhy5lwpe9X9vI2uV16rnYbflgvCfBznA1zzFrA0S4r3o6KANGaxs/guKPisYiv3N7LM9LevJLJrg/"
    "yDXrMZT47Q75+/9haaeCJvJcetTtMLSSvjjXjBIYl8GRlvk8z3kuz5Xh+fPFSQn96V+jCXHG/P9pmEZKf8rZtuVaoZzXdzdq/8nxD9BRbxe8xXhVpn/O"
    "eBtx4rsMPPvzfNMpFZ4z52aurHtZe6qa/t3fO38BIyNccQ=="
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
