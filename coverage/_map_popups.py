"""HTML of the web map's popups, tooltips and legend; every data value is escaped here.

Each builder takes one record (a dict of column values) and returns an HTML fragment in
which every value from the input data went through :func:`esc`. Reporter keys and other
personal outage fields are never read.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from coverage._map_raster import NO_SIGNAL_RGBA, RSRP_RAMP
from coverage.params import Thresholds
from coverage.schema import OPERATORS

__all__ = [
    "class_badge",
    "esc",
    "gap_popup",
    "legend_html",
    "operator_label",
    "outage_popup",
    "tower_popup",
    "village_operators",
    "village_popup",
    "village_tooltip",
]

CLASS_COLOURS: dict[str, str] = {
    "good": "#2e9e44",
    "weak": "#ffb000",
    "none": "#d7191c",
    "no_data": "#ffffff",
}
_CLASS_COLUMN = re.compile(r"^class_(\dg)_(.+)$")
_OPERATOR_NAMES = {name.lower(): name for name in OPERATORS}


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value))
    except TypeError:
        return False


def esc(value: Any) -> str:
    """HTML-escape any value (quotes too); missing values become an empty string.

    Examples
    --------
    >>> esc("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    >>> esc(None), esc(float("nan"))
    ('', '')
    """
    return "" if _missing(value) else html.escape(str(value), quote=True)


def _num(value: Any, lang: str, digits: int = 0) -> str:
    if _missing(value):
        return ""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return esc(value)
    text = f"{x:,.{digits}f}"
    if lang == "vi":  # Vietnamese: "." groups thousands, "," marks decimals
        text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
    return text


def operator_label(key: str) -> str:
    """Canonical operator name for a lower-case column suffix (``"vnpt"`` -> ``"VNPT"``)."""
    return _OPERATOR_NAMES.get(key.lower(), key)


def village_operators(columns: Sequence[str]) -> list[str]:
    """Operator suffixes of the ``class_<tech>_<operator>`` columns, ``"any"`` first.

    Examples
    --------
    >>> village_operators(["class_4g_any", "class_4g_vnpt", "class_5g_viettel", "name"])
    ['any', 'viettel', 'vnpt']
    """
    ops = {m.group(2) for c in columns if (m := _CLASS_COLUMN.match(str(c)))}
    return sorted(ops, key=lambda o: (o != "any", o))


def class_badge(value: Any, lab: Mapping[str, str]) -> str:
    """Return a coloured class label (``good/weak/none/no_data``); unknown text is escaped."""
    cls = "no_data" if _missing(value) else str(value)
    text = lab.get(f"class.{cls}", cls)
    return f'<span class="cg-cls cg-cls-{esc(cls)}">{esc(text)}</span>'


def _rows(pairs: Sequence[tuple[str, str]]) -> str:
    return "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in pairs if v != "")


def _coded(value: Any, prefix: str, lab: Mapping[str, str]) -> str:
    """Translate a code (``new_site``) when known, else show it as it is; escaped."""
    if _missing(value):
        return ""
    return esc(lab.get(f"{prefix}.{value}", str(value)))


def _bool(value: Any, lab: Mapping[str, str]) -> str:
    if _missing(value):
        return ""
    return esc(lab["yes"] if bool(value) else lab["no"])


def _rsrp(value: Any, lab: Mapping[str, str], lang: str) -> str:
    if _missing(value):
        return esc(lab["class.no_data"])
    if float(value) <= -199.0:
        return esc(lab["legend.no_signal"])
    return f"{_num(value, lang)} dBm"


def village_tooltip(rec: Mapping[str, Any], cls: str, lab: Mapping[str, str]) -> str:
    """``#rank name (class)``, escaped."""
    rank = rec.get("rank")
    prefix = "" if _missing(rank) else f"#{int(rank)} "
    return f"{esc(prefix)}<b>{esc(rec.get('name'))}</b> · {esc(lab.get(f'class.{cls}', cls))}"


def village_popup(
    rec: Mapping[str, Any],
    lab: Mapping[str, str],
    lang: str,
    *,
    techs: Sequence[str],
    operators: Sequence[str],
) -> str:
    """Key figures of a village: place, people, priority, class per operator and technology."""
    commune = rec.get("commune_name")
    commune = rec.get("commune_code") if _missing(commune) else commune
    head = [
        (lab["f.commune"], esc(commune)),
        (lab["f.province"], esc(rec.get("province"))),
        (lab["f.population"], _num(rec.get("population"), lang)),
        (lab["f.households"], _num(rec.get("households"), lang)),
        (lab["f.rank"], _num(rec.get("rank"), lang)),
        (lab["f.score"], _num(rec.get("score"), lang, 2)),
        (lab["f.status"], _coded(rec.get("status"), "pstatus", lab)),
        (lab["f.recommended_action"], _coded(rec.get("recommended_action"), "action", lab)),
        (lab["f.funding_route"], _coded(rec.get("funding_route"), "route", lab)),
        (lab["f.responsible_operator"], esc(rec.get("responsible_operator"))),
        (lab["f.cost_vnd"], _num(rec.get("cost_vnd"), lang)),
    ]
    grid = ""
    if techs and operators:
        cells = "".join(f"<th>{esc(t)}</th>" for t in techs)
        grid = f'<table class="cg-grid"><tr><th>{esc(lab["f.operator"])}</th>{cells}</tr>'
        for op in operators:
            name = lab["f.any"] if op == "any" else operator_label(op)
            vals = "".join(
                f"<td>{class_badge(rec[key], lab) if (key := f'class_{t.lower()}_{op}') in rec else ''}</td>"
                for t in techs
            )
            grid += f"<tr><td>{esc(name)}</td>{vals}</tr>"
        grid += "</table>"
    figures: list[tuple[str, str]] = []
    for t in techs:
        tl = t.lower()
        if f"rsrp_centre_dbm_{tl}_any" in rec:
            figures.append(
                (lab["f.rsrp_centre"].format(tech=t), _rsrp(rec[f"rsrp_centre_dbm_{tl}_any"], lab, lang))
            )
        share = rec.get(f"covered_share_{tl}_any")
        if not _missing(share):
            figures.append((lab["f.covered_share"].format(tech=t), f"{_num(100 * float(share), lang)} %"))
        dist = rec.get(f"dist_site_km_{tl}_any")
        if not _missing(dist):
            figures.append((lab["f.dist_site"].format(tech=t), f"{_num(dist, lang, 1)} km"))
    tail = [
        (lab["f.has_grid_power"], _bool(rec.get("has_grid_power"), lab)),
        (lab["f.extremely_difficult"], _bool(rec.get("extremely_difficult"), lab)),
        (lab["f.schools"], _num(rec.get("schools"), lang)),
        (lab["f.health_stations"], _num(rec.get("health_stations"), lang)),
        (lab["f.village_id"], esc(rec.get("village_id"))),
    ]
    return (
        f'<div class="cg-popup"><h3>{esc(rec.get("name"))}</h3><table>{_rows(head)}</table>'
        f"{grid}<table>{_rows(figures)}{_rows(tail)}</table></div>"
    )


def tower_popup(rec: Mapping[str, Any], lab: Mapping[str, str], lang: str) -> str:
    """Site, sector, operator, technology, band, azimuth, height, status and power."""
    az = rec.get("azimuth_deg")
    status = rec.get("status")
    power = rec.get("power_source")
    pairs = [
        (lab["f.operator"], esc(rec.get("operator"))),
        (lab["f.technology"], esc(rec.get("technology"))),
        (lab["f.sector_id"], esc(rec.get("sector_id"))),
        (lab["f.band_mhz"], _num(rec.get("band_mhz"), lang)),
        (lab["f.azimuth_deg"], esc(lab["omni"]) if _missing(az) else _num(az, lang)),
        (lab["f.antenna_height_m"], _num(rec.get("antenna_height_m"), lang)),
        (lab["f.tower_status"], esc(lab.get(f"status.{status}", status))),
        (lab["f.power_source"], esc(power)),
    ]
    return f'<div class="cg-popup"><h3>{esc(rec.get("site_id"))}</h3><table>{_rows(pairs)}</table></div>'


def outage_popup(rec: Mapping[str, Any], lab: Mapping[str, str], village: str | None) -> str:
    """Kind, date, operator, technology and village of a report; nothing about the reporter."""
    kind = rec.get("kind")
    when = rec.get("reported_at")
    date = "" if _missing(when) else str(pd.Timestamp(when).date())
    pairs = [
        (lab["f.reported_at"], esc(date)),
        (lab["f.operator"], esc(rec.get("operator"))),
        (lab["f.technology"], esc(rec.get("technology"))),
        (lab["f.village"], esc(village)),
    ]
    title = lab.get(f"kind.{kind}", "" if _missing(kind) else str(kind))
    return f'<div class="cg-popup"><h3>{esc(title)}</h3><table>{_rows(pairs)}</table></div>'


def gap_popup(rec: Mapping[str, Any], lab: Mapping[str, str], lang: str, commune: str | None) -> str:
    """Class, technology, area, population and commune of a gap polygon."""
    pairs = [
        (lab["f.class"], class_badge(rec.get("class"), lab)),
        (lab["f.technology"], esc(rec.get("technology"))),
        (lab["f.area_km2"], _num(rec.get("area_km2"), lang, 2)),
        (lab["f.gap_population"], _num(rec.get("population"), lang)),
        (lab["f.commune"], esc(commune)),
    ]
    return f'<div class="cg-popup"><table>{_rows(pairs)}</table></div>'


def _no_signal_css() -> str:
    r, g, b, a = NO_SIGNAL_RGBA
    return f"rgba({r},{g},{b},{a / 255 * 0.6:.2f})"  # as drawn: overlay opacity 0.6


def _ramp_css() -> str:
    lo, hi = RSRP_RAMP[0][0], RSRP_RAMP[-1][0]
    stops = ", ".join(f"{c} {100 * (v - lo) / (hi - lo):.1f}%" for v, c in RSRP_RAMP)
    return f"linear-gradient(to right, {stops})"


def legend_html(
    lab: Mapping[str, str],
    *,
    village_tech: str | None,
    rsrp_techs: Sequence[str],
    thresholds: Thresholds,
    operator_colours: Mapping[str, str],
    rank_labels: bool,
    gaps: bool,
    outages: bool,
) -> str:
    """Return the legend: village classes, RSRP ramp in dBm with no-signal and no-data swatches, sites."""
    parts = [f"<details open><summary>{esc(lab['title'])}</summary>"]
    if village_tech:
        parts.append(f"<h4>{esc(lab['legend.villages'].format(tech=village_tech))}</h4>")
        for cls in ("none", "weak", "good", "no_data"):
            dash = "border-style:dashed;" if cls == "no_data" else ""
            parts.append(
                f'<div class="cg-row"><span class="cg-dot" style="background:{CLASS_COLOURS[cls]};{dash}">'
                "</span>"
                f"{esc(lab[f'class.{cls}'])}</div>"
            )
        if rank_labels:
            parts.append(f'<div class="cg-note">{esc(lab["legend.rank"])}</div>')
    if rsrp_techs:
        lo, hi = RSRP_RAMP[0][0], RSRP_RAMP[-1][0]
        ticks = "".join(f"<span>{v:.0f}</span>" for v in (lo, -125, -115, -100, -90, hi))
        parts.append(
            f"<h4>{esc(lab['legend.rsrp'])}</h4>"
            f'<div class="cg-ramp" style="background:{_ramp_css()}"></div><div class="cg-ticks">{ticks}</div>'
            f'<div class="cg-row"><span class="cg-box" style="background:{_no_signal_css()}"></span>'
            f"{esc(lab['legend.no_signal'])}</div>"
            f'<div class="cg-row"><span class="cg-box cg-hatch"></span>{esc(lab["legend.no_data"])}</div>'
        )
        for tech in rsrp_techs:
            t = thresholds.for_technology(tech)
            text = lab["legend.thresholds"].format(tech=tech, good=f"{t.good_dbm:g}", weak=f"{t.weak_dbm:g}")
            parts.append(f'<div class="cg-note">{esc(text)}</div>')
    if gaps:
        parts.append(f"<h4>{esc(lab['legend.gaps'])}</h4>")
        for cls, colour in (("none", "#d7191c"), ("weak", "#ffb000"), ("no_data", "#9e9e9e")):
            parts.append(
                f'<div class="cg-row"><span class="cg-box" style="background:{colour};opacity:.6"></span>'
                f"{esc(lab[f'class.{cls}'])}</div>"
            )
    if operator_colours:
        parts.append(f"<h4>{esc(lab['legend.towers'])}</h4>")
        for op, colour in operator_colours.items():
            parts.append(
                f'<div class="cg-row"><span class="cg-box" style="background:{esc(colour)}"></span>'
                f"{esc(op)}</div>"
            )
    if outages:
        parts.append(f"<h4>{esc(lab['legend.outages'])}</h4>")
        for kind, colour in (
            ("no_signal", "#d7191c"),
            ("weak", "#ff8f00"),
            ("no_data", "#6a1b9a"),
            ("power_cut", "#212121"),
        ):
            parts.append(
                f'<div class="cg-row"><span class="cg-dot" style="background:{colour};border-color:#fff">'
                "</span>"
                f"{esc(lab[f'kind.{kind}'])}</div>"
            )
    parts.append("</details>")
    return "".join(parts)
