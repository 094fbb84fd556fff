"""Folium elements of the web map and the offline packaging of its assets.

The map's own JavaScript runtime (``_map_assets/coverage-map.js``) draws every data
layer from compact JSON; the elements here only place those calls in the page. Strings
inside the JSON are HTML-escaped by :mod:`coverage.maps` before they get here, and
:func:`safe_json` additionally escapes ``<``/``>`` so no data can close a ``<script>``.

:func:`inline_assets` replaces the pinned CDN links that folium writes (so a map still
displays in a notebook) by the vendored copies in ``coverage/_vendor``.
"""

from __future__ import annotations

import base64
import json
import re
from functools import cache
from importlib import resources
from typing import Any, ClassVar

import folium
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

__all__ = [
    "LEAFLET_CSS",
    "LEAFLET_JS",
    "MARKERCLUSTER_CSS",
    "MARKERCLUSTER_DEFAULT_CSS",
    "MARKERCLUSTER_JS",
    "Call",
    "ImageLayer",
    "OutageCluster",
    "inline_assets",
    "remote_references",
    "runtime_element",
    "safe_json",
]

# Pinned CDN addresses folium writes; map_html swaps each for its vendored file.
LEAFLET_JS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js"
LEAFLET_CSS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css"
MARKERCLUSTER_JS = "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.5.3/dist/leaflet.markercluster.js"
MARKERCLUSTER_CSS = "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.5.3/dist/MarkerCluster.css"
MARKERCLUSTER_DEFAULT_CSS = (
    "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.5.3/dist/MarkerCluster.Default.css"
)

_VENDORED: dict[str, str] = {
    LEAFLET_JS: "leaflet/leaflet.js",
    LEAFLET_CSS: "leaflet/leaflet.css",
    MARKERCLUSTER_JS: "leaflet.markercluster/leaflet.markercluster.js",
    MARKERCLUSTER_CSS: "leaflet.markercluster/MarkerCluster.css",
    MARKERCLUSTER_DEFAULT_CSS: "leaflet.markercluster/MarkerCluster.Default.css",
}

_SCRIPT_TAG = re.compile(r'<script\s+src="([^"]+)"\s*>\s*</script>', re.IGNORECASE)
_LINK_TAG = re.compile(r'<link\s+rel="stylesheet"\s+href="([^"]+)"\s*/?>', re.IGNORECASE)
_REMOTE_REF = re.compile(
    r"<(?:script|link|img|iframe|source|embed)\b[^>]*?\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.I
)
_CSS_URL = re.compile(r"url\((['\"]?)(images/[\w.-]+\.png)\1\)")
_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=.*$", re.MULTILINE)


@cache
def _read(folder: str, name: str) -> str:
    return resources.files("coverage").joinpath(folder, name).read_text(encoding="utf-8")


@cache
def _vendored_text(path: str) -> str:
    """Vendored file as it goes into the page: source-map comment dropped, CSS images inlined."""
    text = _read("_vendor", path)
    if path.endswith(".js"):
        return _SOURCE_MAP.sub("", text)
    base = path.rsplit("/", 1)[0]

    def data_uri(match: re.Match[str]) -> str:
        raw = resources.files("coverage").joinpath("_vendor", base, match.group(2)).read_bytes()
        return "url(data:image/png;base64," + base64.b64encode(raw).decode("ascii") + ")"

    return _CSS_URL.sub(data_uri, text)


def safe_json(value: Any) -> str:
    r"""Serialise ``value`` for a ``<script>`` block: compact, and no ``<``/``>`` left.

    Examples
    --------
    >>> safe_json({"name": "</script><b>"})
    '{"name":"\\u003c/script\\u003e\\u003cb\\u003e"}'
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, code)
    return text


def runtime_element() -> Element:
    """Return the map's own CSS and JavaScript runtime, inline (needed before any layer script)."""
    css = _read("_map_assets", "coverage-map.css")
    js = _read("_map_assets", "coverage-map.js")
    return Element(f"<style>\n{css}</style>\n<script>\n{js}</script>")


class Call(MacroElement):
    """A call ``CoverageMap.<fn>(map, parent, *args)``; ``args`` are pre-serialised JSON."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            CoverageMap.{{ this.fn }}({{ this.map.get_name() }}, {{ this._parent.get_name() }}
            {%- for a in this.args %}, {{ a }}{% endfor %});
        {% endmacro %}
        """
    )

    def __init__(self, fn: str, m: folium.Map, *args: str) -> None:
        super().__init__()
        self._name = "CoverageCall"
        self.fn = fn
        self.map = m
        self.args = args


class ImageLayer(Layer):
    """An image overlay (PNG data URI) in its own map pane, switchable in the layer control."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            CoverageMap.pane(
                {{ this._parent.get_name() }}, {{ this.pane|tojson }}, {{ this.z_index }}, false);
            var {{ this.get_name() }} = L.imageOverlay({{ this.url|tojson }}, {{ this.bounds|tojson }}, {
                opacity: {{ this.opacity }}, pane: {{ this.pane|tojson }}, interactive: false,
                className: {{ this.class_name|tojson }}
            });
        {% endmacro %}
        """
    )

    def __init__(
        self,
        url: str,
        bounds: tuple[tuple[float, float], tuple[float, float]],
        *,
        name: str,
        pane: str,
        z_index: int,
        opacity: float = 1.0,
        show: bool = True,
        class_name: str = "",
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "ImageLayer"
        self.url = url
        self.bounds = [list(bounds[0]), list(bounds[1])]
        self.pane = pane
        self.z_index = int(z_index)
        self.opacity = float(opacity)
        self.class_name = class_name


class OutageCluster(JSCSSMixin, MacroElement):
    """Clustered outage markers (Leaflet.markercluster), added to the parent feature group."""

    default_js: ClassVar[list[tuple[str, str]]] = [("leaflet_markercluster_js", MARKERCLUSTER_JS)]
    default_css: ClassVar[list[tuple[str, str]]] = [
        ("leaflet_markercluster_css", MARKERCLUSTER_CSS),
        ("leaflet_markercluster_default_css", MARKERCLUSTER_DEFAULT_CSS),
    ]
    _template = Template(
        """
        {% macro script(this, kwargs) %}
            CoverageMap.outages({{ this.map.get_name() }}, {{ this._parent.get_name() }}, {{ this.rows }});
        {% endmacro %}
        """
    )

    def __init__(self, m: folium.Map, rows_json: str) -> None:
        super().__init__()
        self._name = "OutageCluster"
        self.map = m
        self.rows = rows_json


def remote_references(page: str) -> list[str]:
    """Return the tags of ``page`` that would load something from a network.

    Examples
    --------
    >>> remote_references('<script src="https://x.org/a.js"></script><a href="https://x.org">x</a>')
    ['<script src="https://']
    """
    return [m.group(0) for m in _REMOTE_REF.finditer(page)]


def inline_assets(page: str) -> str:
    """Replace the pinned CDN ``<script>``/``<link>`` tags by the vendored files, inline.

    Raises
    ------
    ValueError
        If the page references a remote script or style sheet that is not vendored.
    """
    unknown: list[str] = []

    def script(match: re.Match[str]) -> str:
        url = match.group(1)
        if url not in _VENDORED:
            unknown.append(url)
            return match.group(0)
        return f"<script>/* {_VENDORED[url]} (vendored) */\n{_vendored_text(_VENDORED[url])}\n</script>"

    def link(match: re.Match[str]) -> str:
        url = match.group(1)
        if url not in _VENDORED:
            unknown.append(url)
            return match.group(0)
        return f"<style>/* {_VENDORED[url]} (vendored) */\n{_vendored_text(_VENDORED[url])}\n</style>"

    page = _LINK_TAG.sub(link, _SCRIPT_TAG.sub(script, page))
    left = remote_references(page)
    if unknown or left:
        raise ValueError(
            f"the map references remote assets that are not vendored: {sorted(set(unknown)) or left}; "
            "vendor them in coverage/_vendor (see VENDOR.md) or remove the plugin that needs them"
        )
    return page
