"""How a sensor model's input windows are made, as declared at conversion:
window length, hop, channel names and order, per-channel statistics, layout
and sample rate, checked against the graph's input shape."""
import numpy as np

from ..errors import UserError
from ..metadata import SensorInput
from ..sensor.window import LAYOUTS

KEYS = ("window", "hop", "channels", "mean", "std", "layout", "sample_rate")


def _numbers(key, value):
    if isinstance(value, str):
        try:
            return [float(v) for v in value.split(",")]
        except ValueError:
            raise UserError(f"sensor {key}= takes comma-separated numbers, got {value!r}") from None
    return [float(v) for v in np.atleast_1d(value)]


def parse_sensor_spec(spec):
    """A dict of KEYS from a dict, or from key=value words (strings or lists of them)."""
    if spec is None:
        return {}
    if isinstance(spec, dict):
        pairs = dict(spec)
    else:
        words = spec.split() if isinstance(spec, str) else [w for part in spec for w in part.split()]
        pairs = {}
        for word in words:
            key, sep, text = word.partition("=")
            if not sep:
                raise UserError(f"sensor preprocessing takes key=value words ({', '.join(KEYS)}); "
                                f"got {word!r}")
            pairs[key] = text
    unknown = set(pairs) - set(KEYS)
    if unknown:
        raise UserError(f"unknown sensor preprocessing keys {sorted(unknown)}; known: "
                        f"{', '.join(KEYS)}")
    parsed = {}
    for key, value in pairs.items():
        if value is None:
            continue
        if key in ("window", "hop"):
            parsed[key] = int(_numbers(key, value)[0])
        elif key == "sample_rate":
            parsed[key] = _numbers(key, value)[0]
        elif key in ("mean", "std"):
            parsed[key] = _numbers(key, value)
        elif key == "channels":
            parsed[key] = [c.strip() for c in (value.split(",") if isinstance(value, str)
                                               else value) if str(c).strip()]
        else:
            parsed[key] = str(value).lower()
    return parsed


def _layout_and_sizes(dims, spec, origin):
    """(layout, window, channels) from the input dims and what was declared."""
    count = len(spec["channels"]) if "channels" in spec else None
    if len(dims) == 2:
        layout, total = "flat", dims[1]
        window = spec.get("window") or (total // count if total and count else None)
        return layout, window, count or (total // window if total and window else None)
    if len(dims) != 3:
        raise UserError(f"{origin} takes a {len(dims)}-D input {dims}: a sensor model takes "
                        "(N, channels, window), (N, window, channels) or (N, window*channels)")
    layout = spec.get("layout")
    if layout is None:
        if count is not None and dims[1] == count:
            layout = "ncw"
        elif count is not None and dims[2] == count:
            layout = "nwc"
        elif spec.get("window") is not None and dims[2] == spec["window"]:
            layout = "ncw"
        elif spec.get("window") is not None and dims[1] == spec["window"]:
            layout = "nwc"
        else:
            layout = "ncw"
    if layout not in ("ncw", "nwc"):
        raise UserError(f"{origin}: sensor layout {layout!r} does not fit a 3-D input; use ncw "
                        "or nwc")
    channels_dim, window_dim = (dims[1], dims[2]) if layout == "ncw" else (dims[2], dims[1])
    return layout, spec.get("window") or window_dim, count or channels_dim


def sensor_input(dims, spec, origin):
    """The SensorInput for a graph input of `dims` (None for free axes) and a
    declared spec (see parse_sensor_spec); contradictions are UserErrors."""
    spec = parse_sensor_spec(spec)
    layout, window, count = _layout_and_sizes(dims, spec, origin)
    if spec.get("layout") and spec["layout"] not in LAYOUTS:
        raise UserError(f"sensor layout must be one of {', '.join(LAYOUTS)}, got {spec['layout']!r}")
    if not window or not count:
        raise UserError(f"{origin}: cannot tell the window length and channel count from input "
                        f"{dims}: give --sensor-window W and --channels a,b,c")
    expected = {"ncw": [count, window], "nwc": [window, count], "flat": [window * count]}[layout]
    for have, want in zip(dims[1:], expected):
        if have is not None and have != want:
            raise UserError(f"{origin} takes input {dims} but the declared window ({window} "
                            f"samples of {count} channels, {layout}) makes [N, "
                            f"{', '.join(map(str, expected))}]")
    channels = spec.get("channels") or [f"ch{i}" for i in range(count)]
    if len(channels) != count:
        raise UserError(f"{origin} takes {count} channels but {len(channels)} names were given")
    statistics = {}
    for key, default in (("mean", 0.0), ("std", 1.0)):
        values = spec.get(key, [default])
        if len(values) == 1:
            values = values * count
        if len(values) != count:
            raise UserError(f"sensor {key} needs 1 or {count} values, got {len(values)}")
        statistics[key] = tuple(values)
    if min(statistics["std"]) <= 0:
        raise UserError(f"sensor std must be positive, got {statistics['std']}")
    hop = spec.get("hop") or window
    if hop < 1 or window < 1:
        raise UserError(f"window and hop must be positive, got {window} and {hop}")
    return SensorInput(window=int(window), hop=int(hop), channels=tuple(channels),
                       mean=statistics["mean"], std=statistics["std"], layout=layout,
                       sample_rate=spec.get("sample_rate"))
