"""Offline web map for telecom liaisons: :func:`gap_map` builds it, :func:`map_html` packs it.

The map is a folium (Leaflet) map with these layers, each switchable in the layer control:

* a hillshade rendered from the DEM (the offline basemap) and OpenStreetMap tiles, off by
  default (with the default layers the page makes no network request);
* RSRP per technology (and optionally per operator) as PNG image overlays, with the colour
  ramp and "no signal" (-200 dBm) / "no data" (NaN, grey stripes) in the legend;
* gap polygons, commune outlines with names, towers per operator and technology (sector
  wedges where the azimuth is known, circles for omni sites), clustered outage reports;
* villages coloured by their centre class (none / weak / good / no data) with their
  priority rank, and popups with their key figures in Vietnamese or English.

Plus a scale bar, a village search box and a legend. :func:`map_html` returns one
self-contained HTML page: Leaflet and Leaflet.markercluster are inlined from the vendored
copies in ``coverage/_vendor`` and rasters are embedded as PNG data URIs.

Inputs come in the metric working CRS; this module is the only place that converts to
EPSG:4326 (vectors) and, for image overlays, to Leaflet's display projection EPSG:3857.
Every string from the input data is HTML-escaped before it reaches the page, layer
names included (Leaflet's layer control inserts them as HTML).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Geod

from coverage import _map_popups as pop
from coverage._errors import MissingCRSError, Problem
from coverage._map_i18n import Lang, labels
from coverage._map_layers import (
    LEAFLET_CSS,
    LEAFLET_JS,
    Call,
    ImageLayer,
    OutageCluster,
    inline_assets,
    runtime_element,
    safe_json,
)
from coverage._map_raster import hillshade, hillshade_png, png_data_uri, rsrp_png, to_display_grid
from coverage._types import Raster
from coverage.params import Thresholds

if TYPE_CHECKING:
    from coverage.propagation import SignalResult

__all__ = ["OPERATOR_COLOURS", "gap_map", "map_html"]

#: Tower colours per operator (not brand colours: chosen to stay apart from the class colours).
OPERATOR_COLOURS: dict[str, str] = {
    "Viettel": "#8e24aa",
    "VNPT": "#1e88e5",
    "MobiFone": "#00897b",
    "Vietnamobile": "#f4511e",
    "Gmobile": "#6d4c41",
    "iTel": "#546e7a",
}
_OTHER_COLOUR = "#455a64"
_WGS84 = CRS.from_epsg(4326)
_GEOD = Geod(ellps="WGS84")
_BEAMWIDTH_DEG = 65.0  # drawn wedge width: a typical 3-sector panel (3GPP 38.901 default)


def _require_crs(layers: Mapping[str, Any]) -> None:
    missing = [
        name for name, layer in layers.items() if layer is not None and getattr(layer, "crs", None) is None
    ]
    if missing:
        raise MissingCRSError(
            [
                Problem("error", name, "the layer has no CRS", "set it with .set_crs(...) (never guessed)")
                for name in missing
            ],
            "Cannot draw the map",
        )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    cols = [c for c in frame.columns if c != geom]
    return frame[cols].astype(object).where(frame[cols].notna(), None).to_dict("records")


def _points_4326(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latitude, longitude and a validity mask of each row's point (polygons: representative point)."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    pts = np.full(len(geoms), None, dtype=object)
    pts[ok] = shapely.point_on_surface(geoms[ok])
    wgs = gpd.GeoSeries(pts, crs=frame.crs).to_crs(_WGS84)
    lon = np.where(ok, wgs.x.to_numpy(dtype=float, na_value=np.nan), np.nan)
    lat = np.where(ok, wgs.y.to_numpy(dtype=float, na_value=np.nan), np.nan)
    return np.round(lat, 6), np.round(lon, 6), ok


def _geojson(frame: gpd.GeoDataFrame, props: list[dict[str, Any]], simplify_m: float) -> dict[str, Any]:
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if simplify_m > 0 and frame.crs is not None and frame.crs.is_projected:
        geoms = shapely.simplify(geoms, simplify_m, preserve_topology=True)
    wgs = np.asarray(gpd.GeoSeries(geoms, crs=frame.crs).to_crs(_WGS84).values, dtype=object)
    ok = ~(shapely.is_missing(wgs) | shapely.is_empty(wgs))
    wgs[ok] = shapely.transform(wgs[ok], lambda c: np.round(c, 5))  # ~1 m: plenty for display
    features = [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": p}
        for g, p, keep in zip(wgs, props, ok, strict=True)
        if keep
    ]
    return {"type": "FeatureCollection", "features": features}


def _village_layers(
    m: folium.Map, villages: gpd.GeoDataFrame, lab: Mapping[str, str], lang: str, rank_labels: int
) -> list[str]:
    lat, lon, ok = _points_4326(villages)
    frame = villages.loc[ok]
    recs = _records(frame)
    techs = [t for t in ("4G", "5G") if f"class_{t.lower()}_any" in frame.columns]
    ops = pop.village_operators(list(frame.columns))
    data = {
        "lat": lat[ok].tolist(),
        "lon": lon[ok].tolist(),
        "rank": [None if r.get("rank") is None else int(r["rank"]) for r in recs],
        "name": ["" if r.get("name") is None else str(r["name"]) for r in recs],
        "popup": [pop.village_popup(r, lab, lang, techs=techs, operators=ops) for r in recs],
    }
    m.add_child(_Data("cg_village_data", safe_json(data)))
    keys = techs or ["all"]
    for i, tech in enumerate(keys):
        col = f"class_{tech.lower()}_any"
        classes = ["no_data" if pop._missing(r.get(col)) else str(r[col]) for r in recs]
        tips = [pop.village_tooltip(r, c, lab) for r, c in zip(recs, classes, strict=True)]
        name = lab["layer.villages"].format(tech=tech) if tech != "all" else lab["f.village"]
        group = folium.FeatureGroup(name=pop.esc(name), show=i == 0)
        opts = {"rankLabels": rank_labels}
        group.add_child(
            Call(
                "villages",
                m,
                safe_json(tech),
                "cg_village_data",
                safe_json(classes),
                safe_json(tips),
                safe_json(opts),
            )
        )
        m.add_child(group)
    return keys


class _Data(folium.MacroElement):
    """``var <name> = <json>;`` in the page script, shared by several layers."""

    _template = folium.template.Template(
        "{% macro script(this, kwargs) %}var {{ this.var }} = {{ this.json }};{% endmacro %}"
    )

    def __init__(self, var: str, json_text: str) -> None:
        super().__init__()
        self._name = "CoverageData"
        self.var = var
        self.json = json_text


def _wedge(lon: float, lat: float, azimuth_deg: float, radius_m: float) -> list[list[float]]:
    """Return a sector wedge as ``[[lat, lon], ...]`` around the true-north azimuth (geodesic)."""
    angles = azimuth_deg + np.linspace(-_BEAMWIDTH_DEG / 2, _BEAMWIDTH_DEG / 2, 9)
    lons, lats, _ = _GEOD.fwd(np.full(9, lon), np.full(9, lat), angles, np.full(9, radius_m))
    ring = [
        [round(lat, 6), round(lon, 6)],
        *([round(b, 6), round(a, 6)] for a, b in zip(lons, lats, strict=True)),
    ]
    return ring


def _tower_layers(
    m: folium.Map, towers: gpd.GeoDataFrame, lab: Mapping[str, str], lang: str, radius_m: float
) -> dict[str, str]:
    lat, lon, ok = _points_4326(towers)
    frame = towers.loc[ok]
    recs = _records(frame)
    used: dict[str, str] = {}
    keys = sorted(
        {(str(r.get("technology") or "?"), str(r.get("operator") or "?")) for r in recs},
        key=lambda k: (k[0], k[1].lower()),
    )
    for tech, op in keys:
        rows = []
        for r, la, lo in zip(recs, lat[ok], lon[ok], strict=True):
            if (str(r.get("technology") or "?"), str(r.get("operator") or "?")) != (tech, op):
                continue
            az = r.get("azimuth_deg")
            scale = 0.75 if tech == "5G" else 1.0  # 5G drawn smaller so both stay visible at a site
            wedge = None if az is None else _wedge(lo, la, float(az), radius_m * scale)
            on_air = r.get("status") in (None, "on_air")
            tip = f"{pop.esc(r.get('site_id'))} · {pop.esc(op)} {pop.esc(tech)}"
            rows.append([float(la), float(lo), wedge, on_air, tip, pop.tower_popup(r, lab, lang)])
        colour = OPERATOR_COLOURS.get(op, _OTHER_COLOUR)
        used[op] = colour
        group = folium.FeatureGroup(
            name=pop.esc(lab["layer.towers"].format(operator=op, tech=tech)), show=tech in ("4G", "5G")
        )
        group.add_child(
            Call("towers", m, safe_json(rows), safe_json({"color": colour, "dashed": tech == "5G"}))
        )
        m.add_child(group)
    return used


def _outage_layer(
    m: folium.Map, outages: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, lab: Mapping[str, str]
) -> bool:
    lat, lon, ok = _points_4326(outages)
    vlat, vlon, vok = _points_4326(villages)
    ids = villages["village_id"].astype(str).tolist() if "village_id" in villages.columns else []
    names = villages["name"].astype(str).tolist() if "name" in villages.columns else ids
    where = {i: (a, b, n) for i, a, b, n, k in zip(ids, vlat, vlon, names, vok, strict=False) if k}
    rows = []
    # Only these fields are read: reporter keys and any other column never reach the page.
    fields = ["kind", "reported_at", "operator", "technology", "village_id"]
    frame = pd.DataFrame(outages[[c for c in fields if c in outages.columns]])
    for rec, la, lo, has in zip(_records(frame), lat, lon, ok, strict=True):
        vid = rec.get("village_id")
        village = where.get(str(vid)) if vid is not None else None
        if not has:
            if village is None:
                continue
            la, lo = village[0], village[1]
        name = village[2] if village is not None else vid
        kind = str(rec.get("kind") or "no_data")
        tip = pop.esc(lab.get(f"kind.{kind}", kind))
        rows.append([float(la), float(lo), pop.esc(kind), tip, pop.outage_popup(rec, lab, name)])
    if not rows:
        return False
    group = folium.FeatureGroup(name=pop.esc(lab["layer.outages"]), show=True)
    group.add_child(OutageCluster(m, safe_json(rows)))
    m.add_child(group)
    return True


def _gap_layers(
    m: folium.Map,
    gaps: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame | None,
    lab: Mapping[str, str],
    lang: str,
    simplify_m: float,
) -> bool:
    names: dict[str, str] = {}
    if communes is not None and {"commune_code", "name"} <= set(communes.columns):
        names = dict(zip(communes["commune_code"].astype(str), communes["name"].astype(str), strict=True))
    techs = (
        sorted(gaps["technology"].dropna().astype(str).unique()) if "technology" in gaps.columns else ["?"]
    )
    for tech in techs:
        part = gaps[gaps["technology"].astype(str) == tech] if "technology" in gaps.columns else gaps
        props = []
        for rec in _records(part):
            code = rec.get("commune_code")
            commune = names.get(str(code), code) if code is not None else None
            cls = str(rec.get("class") or "no_data")
            props.append({"cls": pop.esc(cls), "popup": pop.gap_popup(rec, lab, lang, commune)})
        group = folium.FeatureGroup(name=pop.esc(lab["layer.gaps"].format(tech=tech)), show=False)
        group.add_child(Call("gaps", m, safe_json(_geojson(part, props, simplify_m))))
        m.add_child(group)
    return bool(techs)


def _commune_layer(
    m: folium.Map, communes: gpd.GeoDataFrame, lab: Mapping[str, str], simplify_m: float
) -> None:
    lat, lon, _ = _points_4326(communes)
    props = []
    for rec, la, lo in zip(_records(communes), lat, lon, strict=True):
        name, province = rec.get("name"), rec.get("province")
        tip = f"<b>{pop.esc(name)}</b>" + (f" ({pop.esc(province)})" if province is not None else "")
        props.append({"tip": tip, "label": pop.esc(name), "lat": la, "lon": lo})
    group = folium.FeatureGroup(name=pop.esc(lab["layer.communes"]), show=True)
    group.add_child(Call("communes", m, safe_json(_geojson(communes, props, simplify_m))))
    m.add_child(group)


def _cell_size_m(raster: Raster) -> tuple[float, float]:
    crs = CRS.from_user_input(raster.crs)
    rx, ry = raster.resolution
    if crs.is_geographic:  # degrees -> metres at the grid's middle latitude
        bottom, top = raster.bounds[1], raster.bounds[3]
        return ry * 110_574.0, rx * 111_320.0 * float(np.cos(np.radians((bottom + top) / 2)))
    return ry, rx


def _raster_layers(
    m: folium.Map,
    signal: SignalResult | None,
    dem: Raster | None,
    lab: Mapping[str, str],
    max_px: int,
    per_operator: bool,
) -> list[str]:
    if dem is not None:
        shade = hillshade(dem.array, cell_size_m=_cell_size_m(dem))
        shown, inside, bounds = to_display_grid(
            shade, dem.transform, CRS.from_user_input(dem.crs), max_px=max_px, resampling="average"
        )
        url = png_data_uri(hillshade_png(shown, inside))
        m.add_child(
            ImageLayer(
                url,
                bounds,
                name=pop.esc(lab["layer.hillshade"]),
                pane="cg-hillshade",
                z_index=250,
                opacity=0.85,
            )
        )
    m.add_child(
        folium.TileLayer(
            "OpenStreetMap", name=pop.esc(lab["layer.osm"]), overlay=True, show=False, control=True
        )
    )
    techs: list[str] = []
    if signal is None:
        return techs
    crs = CRS.from_user_input(signal.crs)
    keys = sorted(signal.layers, key=lambda k: (k[0], k[1] != "any", k[1].lower()))
    first = True
    for tech, op in keys:
        if op != "any" and not per_operator:
            continue
        values, inside, bounds = to_display_grid(
            signal.layers[(tech, op)].rsrp_dbm, signal.transform, crs, max_px=max_px
        )
        name = (
            lab["layer.rsrp"].format(tech=tech)
            if op == "any"
            else lab["layer.rsrp_op"].format(tech=tech, operator=pop.operator_label(op))
        )
        m.add_child(
            ImageLayer(
                png_data_uri(rsrp_png(values, inside)),
                bounds,
                name=pop.esc(name),
                pane="cg-rsrp",
                z_index=300,
                opacity=0.6,
                show=first,
            )
        )
        first = False
        if tech not in techs:
            techs.append(tech)
    return techs


def gap_map(
    villages: gpd.GeoDataFrame,
    *,
    communes: gpd.GeoDataFrame | None = None,
    towers: gpd.GeoDataFrame | None = None,
    outages: gpd.GeoDataFrame | None = None,
    gaps: gpd.GeoDataFrame | None = None,
    signal: SignalResult | None = None,
    dem: Raster | None = None,
    priority: pd.DataFrame | None = None,
    lang: Lang = "vi",
    title: str | None = None,
    thresholds: Thresholds | None = None,
    max_overlay_px: int = 1600,
    per_operator: bool = False,
    rank_labels: int = 20,
    sector_radius_m: float = 800.0,
    simplify_m: float = 30.0,
    min_gap_area_km2: float = 0.01,
    map_kwds: Mapping[str, Any] | None = None,
) -> folium.Map:
    """Build the liaison web map (see the module docstring for its layers).

    Parameters
    ----------
    villages
        The wide village table of :func:`coverage.gaps.village_signal` (or plain
        villages): ``name``, ``commune_name``, ``population``, ``class_<tech>_<operator>``,
        ``rsrp_centre_dbm_<tech>_any``, ``covered_share_<tech>_any``,
        ``dist_site_km_<tech>_any`` and the priority columns ``rank``, ``score``,
        ``recommended_action``, ``funding_route``, ``status`` are shown when present.
    communes, towers, outages, gaps
        Optional layers (GeoDataFrames with a CRS). Outages show only kind, date,
        operator, technology and village; reporter keys are never read.
    signal
        RSRP layers drawn as image overlays: ``"any"`` per technology (the first shown),
        per operator too with ``per_operator``. -200 dBm = no signal; NaN = no data.
    dem
        Elevation (metres, NaN = nodata) for the offline hillshade basemap.
    priority
        Optional priority table joined to ``villages`` on ``village_id`` (columns the
        villages already have are kept).
    lang
        ``"vi"`` (default) or ``"en"`` for every label, popup and the legend.
    title
        Page and map title; default a generic one in ``lang``.
    thresholds
        Class limits quoted in the legend (default :class:`~coverage.params.Thresholds`).
    max_overlay_px
        Longest side, in pixels, of each embedded raster (controls the file size).
    per_operator
        Also embed one RSRP overlay per operator.
    rank_labels
        Villages ranked up to this number get their rank drawn on the marker.
    sector_radius_m
        Drawn length of a sector wedge (5G: 3/4 of it), metres; only a symbol.
    simplify_m
        Simplification tolerance of commune and gap outlines, metres (display only).
    min_gap_area_km2
        Gap polygons smaller than this are not drawn (display only: single-cell speckle
        is invisible at the zoom levels that show it and would dominate the file size).
    map_kwds
        Extra keyword arguments for :class:`folium.Map`.

    Returns
    -------
    folium.Map
        Pass it to :func:`map_html` for the self-contained page.

    Raises
    ------
    MissingCRSError
        If an input layer has no CRS.
    ValueError
        If ``lang`` is not ``"vi"`` or ``"en"``.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> v = gpd.GeoDataFrame({"village_id": ["a"], "name": ["Bản <Nà>"], "class_4g_any": ["none"]},
    ...                      geometry=[Point(500000, 2400000)], crs="EPSG:32648")
    >>> page = map_html(gap_map(v, lang="en"))
    >>> "Villages by 4G signal" in page, "Bản &lt;Nà&gt;" in page, "<Nà>" in page
    (True, True, False)
    >>> empty = gpd.GeoDataFrame({"village_id": [], "name": []}, geometry=[], crs="EPSG:32648")
    >>> "leaflet" in map_html(gap_map(empty))
    True
    """
    lab = labels(lang)
    _require_crs(
        {"villages": villages, "communes": communes, "towers": towers, "outages": outages, "gaps": gaps}
    )
    thresholds = thresholds or Thresholds()
    if priority is not None and "village_id" in priority.columns and "village_id" in villages.columns:
        extra = ["village_id", *[c for c in priority.columns if c not in villages.columns]]
        keyed = pd.DataFrame(priority[extra]).drop_duplicates("village_id")
        keyed["village_id"] = keyed["village_id"].astype(str)
        merged = villages.assign(_vid=villages["village_id"].astype(str)).merge(
            keyed.rename(columns={"village_id": "_vid"}), on="_vid", how="left"
        )
        villages = gpd.GeoDataFrame(
            merged.drop(columns="_vid"), geometry=villages.geometry.name, crs=villages.crs
        )
    page_title = title or lab["title"]
    extent = [g for g in (villages, communes) if g is not None and len(g) and not g.geometry.is_empty.all()]
    if extent:
        west, south, east, north = pd.concat([g.to_crs(_WGS84).geometry for g in extent]).total_bounds
    else:
        west, south, east, north = 102.0, 8.5, 109.5, 23.4  # Viet Nam
    kwds = {
        "tiles": None,
        "control_scale": True,
        "zoom_start": 9,
        "maxZoom": 18,
        "minZoom": 5,
        **(map_kwds or {}),
    }
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], **kwds)
    # Only Leaflet (pinned); folium's jQuery/Bootstrap/awesome-markers are not used here.
    m.default_js = [("leaflet", LEAFLET_JS)]
    m.default_css = [("leaflet_css", LEAFLET_CSS)]
    root = m.get_root()
    root.title = html.escape(page_title)
    root.header.add_child(runtime_element(), name="coverage_map_runtime")
    m.add_child(Call("init", m))
    # Added in the order the layer control lists them; drawing order comes from the panes.
    keys = _village_layers(m, villages, lab, lang, rank_labels)
    has_outages = outages is not None and len(outages) > 0 and _outage_layer(m, outages, villages, lab)
    colours = (
        _tower_layers(m, towers, lab, lang, sector_radius_m) if towers is not None and len(towers) else {}
    )
    if communes is not None and len(communes):
        _commune_layer(m, communes, lab, simplify_m)
    if gaps is not None and "area_km2" in gaps.columns and min_gap_area_km2 > 0:
        gaps = gaps[~(pd.to_numeric(gaps["area_km2"], errors="coerce") < min_gap_area_km2)]
    has_gaps = gaps is not None and len(gaps) > 0 and _gap_layers(m, gaps, communes, lab, lang, simplify_m)
    rsrp_techs = _raster_layers(m, signal, dem, lab, max_overlay_px, per_operator)
    legend = pop.legend_html(
        lab,
        village_tech=keys[0] if keys[0] != "all" else None,
        rsrp_techs=rsrp_techs,
        thresholds=thresholds,
        operator_colours=colours,
        rank_labels="rank" in villages.columns and rank_labels > 0,
        gaps=bool(has_gaps),
        outages=bool(has_outages),
    )
    m.add_child(Call("legend", m, safe_json(legend)))
    m.add_child(Call("title", m, safe_json(pop.esc(page_title))))
    m.add_child(
        Call(
            "search",
            m,
            safe_json(keys[0]),
            safe_json({"placeholder": lab["search"], "none": lab["search.none"]}),
        )
    )
    m.add_child(folium.LayerControl(position="topright", collapsed=False))
    m.fit_bounds([[south, west], [north, east]])
    return m


def map_html(m: folium.Map) -> str:
    """Render ``m`` as one self-contained HTML page (UTF-8 text), with no remote asset.

    Leaflet, Leaflet.markercluster and their CSS images are inlined from the vendored
    copies; the page is the string to write to ``map.html``.

    Raises
    ------
    ValueError
        If the map uses a folium plugin whose JavaScript or CSS is not vendored.
    """
    return inline_assets(m.get_root().render())
