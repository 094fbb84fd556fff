"""Parse what-if scenario TOML text into a :class:`~coverage.whatif.Scenario` (no file I/O).

:func:`coverage.scenarios.read_scenario` reads the file and calls :func:`scenario_from_toml`.

Format::

    [scenario]
    name = "VNPT hill mast + Viettel 5G"
    description = "free text"

    [[change]]                       # applied in file order
    action = "add"                   # add | remove | modify | upgrade
    site_id = "VNPT-NEW-01"
    operator = "VNPT"
    lon = 105.75                     # or x = ..., y = ..., crs = "EPSG:32648"
    lat = 21.70
    antenna_height_m = 35
    technology = "4G"                # optional keys below take TowerDefaults
    band_mhz = 700
    azimuth_deg = [0, 120, 240]      # leave out for an omni antenna
    eirp_dbm = 62.5
    tilt_deg = 3
    power_source = "solar"

    [[change]]
    action = "remove"
    site_id = "VT-TN-0005"
    sector_id = "VT-TN-0005-L2"      # optional; technology = "4G" optional too

    [[change]]
    action = "modify"
    site_id = "MF-TN-0003"
    antenna_height_m = 45            # and/or azimuth_deg (one per sector), rotate_deg,
                                     # tilt_deg, eirp_dbm, band_mhz

    [[change]]
    action = "upgrade"
    site_id = "VT-TN-0002"
    technology = "5G"                # default; band_mhz / eirp_dbm optional

Every problem names the file, the change number, its line and, for an unknown key, the
closest valid key.
"""

from __future__ import annotations

import re
import tomllib

from coverage._validate import closest
from coverage.whatif import AddSite, ModifySite, RemoveSite, Scenario, ScenarioError, UpgradeSite

__all__ = ["scenario_from_toml"]

_KEYS: dict[str, tuple[str, ...]] = {
    "add": (
        "site_id",
        "operator",
        "lon",
        "lat",
        "x",
        "y",
        "crs",
        "technology",
        "antenna_height_m",
        "band_mhz",
        "azimuth_deg",
        "eirp_dbm",
        "tilt_deg",
        "bandwidth_mhz",
        "power_source",
    ),
    "remove": ("site_id", "sector_id", "technology"),
    "modify": (
        "site_id",
        "sector_id",
        "technology",
        "antenna_height_m",
        "azimuth_deg",
        "rotate_deg",
        "tilt_deg",
        "eirp_dbm",
        "band_mhz",
    ),
    "upgrade": ("site_id", "technology", "from_technology", "band_mhz", "eirp_dbm"),
}
_REQUIRED = {
    "add": ("site_id", "operator"),
    "remove": ("site_id",),
    "modify": ("site_id",),
    "upgrade": ("site_id",),
}


def _change_lines(text: str) -> list[int]:
    return [i + 1 for i, line in enumerate(text.splitlines()) if re.match(r"\s*\[\[\s*change\s*\]\]", line)]


def _key_line(text: str, start: int | None, key: str) -> int | None:
    if start is None:
        return None
    lines = text.splitlines()
    for i in range(start, len(lines)):
        if i > start - 1 and re.match(r"\s*\[", lines[i]) and i != start - 1:
            break
        if re.match(rf"\s*{re.escape(key)}\s*=", lines[i]):
            return i + 1
    return start


def scenario_from_toml(text: str, *, source: str = "<scenario>") -> Scenario:
    r"""Parse the TOML text of a scenario (see the module docstring for the format).

    Examples
    --------
    >>> s = scenario_from_toml('[[change]]\naction = "remove"\nsite_id = "A"\n', source="s.toml")
    >>> s.changes[0], s.changes[0].line
    (RemoveSite(site_id='A', sector_id=None, technology=None), 1)
    >>> bad = '[[change]]\naction = "remove"\nsite = "A"\n'
    >>> scenario_from_toml(bad, source="s.toml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    coverage.whatif.ScenarioError: s.toml, change 1 (line 3): unknown key 'site' for action 'remove'; did ...
    >>> len(scenario_from_toml(""))
    0
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    unknown = [k for k in doc if k not in ("scenario", "change")]
    if unknown:
        hint = closest(unknown[0], ["scenario", "change"])
        raise ScenarioError(
            f"{source}: unknown section {unknown[0]!r}"
            + (f"; did you mean {hint!r}?" if hint else "")
            + " (expected [scenario] and [[change]] tables)"
        )
    head = doc.get("scenario", {})
    if not isinstance(head, dict):
        raise ScenarioError(f"{source}: [scenario] must be a table")
    for k in head:
        if k not in ("name", "description"):
            hint = closest(k, ["name", "description"])
            raise ScenarioError(
                f"{source}: unknown key {k!r} in [scenario]" + (f"; did you mean {hint!r}?" if hint else "")
            )
    raw = doc.get("change", [])
    if not isinstance(raw, list):
        raise ScenarioError(f"{source}: 'change' must be an array of tables: write [[change]]")
    starts = _change_lines(text)
    changes = []
    for i, item in enumerate(raw):
        line = starts[i] if i < len(starts) else None
        where = f"{source}, change {i + 1}" + (f" (line {line})" if line else "")
        action = item.get("action")
        if action not in _KEYS:
            hint = closest(str(action), list(_KEYS)) if action is not None else None
            raise ScenarioError(
                f"{where}: action was {action!r} but is expected to be one of {list(_KEYS)}"
                + (f"; did you mean {hint!r}?" if hint else "")
            )
        for k in item:
            if k != "action" and k not in _KEYS[action]:
                hint = closest(k, _KEYS[action])
                kl = _key_line(text, line, k)
                at = f"{source}, change {i + 1}" + (f" (line {kl})" if kl else "")
                raise ScenarioError(
                    f"{at}: unknown key {k!r} for action {action!r}"
                    + (f"; did you mean {hint!r}?" if hint else f"; valid keys: {', '.join(_KEYS[action])}")
                )
        missing = [k for k in _REQUIRED[action] if k not in item]
        if missing:
            raise ScenarioError(f"{where}: action {action!r} needs {', '.join(missing)}")
        args = {k: v for k, v in item.items() if k != "action"}
        for k in ("site_id", "sector_id"):
            if k in args:
                args[k] = str(args[k])
        try:
            if action == "add":
                if ("lon" in args) != ("lat" in args) or ("x" in args) != ("y" in args):
                    raise ScenarioError("give lon and lat, or x and y (with crs)")
                if "lon" in args:
                    if "x" in args:
                        raise ScenarioError("give lon/lat or x/y, not both")
                    args["x"], args["y"] = args.pop("lon"), args.pop("lat")
                    args.setdefault("crs", "EPSG:4326")
                elif "x" in args:
                    if "crs" not in args:
                        raise ScenarioError('x/y need a crs, e.g. crs = "EPSG:32648"')
                else:
                    raise ScenarioError("a new site needs a position: lon/lat, or x/y with crs")
                if "azimuth_deg" in args:
                    args["azimuth_deg"] = (
                        tuple(args["azimuth_deg"])
                        if isinstance(args["azimuth_deg"], list)
                        else (args["azimuth_deg"],)
                    )
                change = AddSite(**args, line=line)
            elif action == "remove":
                change = RemoveSite(**args, line=line)
            elif action == "modify":
                if "azimuth_deg" in args and not isinstance(args["azimuth_deg"], list):
                    args["azimuth_deg"] = (args["azimuth_deg"],)
                if "azimuth_deg" in args:
                    args["azimuth_deg"] = tuple(args["azimuth_deg"])
                change = ModifySite(**args, line=line)
            else:
                change = UpgradeSite(**args, line=line)
        except ScenarioError as exc:
            raise ScenarioError(f"{where}: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise ScenarioError(f"{where}: {exc}") from None
        changes.append(change)
    return Scenario(
        tuple(changes),
        name=str(head.get("name", "")),
        description=str(head.get("description", "")),
        source=source,
    )
