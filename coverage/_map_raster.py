"""Raster helpers of the web map: display warping, hillshade, colour ramp and PNG encoding.

Pure numpy + rasterio (no folium), so every step is testable on its own. Leaflet draws an
image overlay by stretching it linearly between two lat/lon corners in its display
projection (Web Mercator), so rasters are warped to EPSG:3857 here; the corners are
returned in EPSG:4326 for Leaflet.
"""

from __future__ import annotations

import base64
import math
import struct
import zlib

import numpy as np
from affine import Affine
from pyproj import CRS
from rasterio.enums import Resampling
from rasterio.warp import calculate_default_transform, reproject, transform_bounds

__all__ = [
    "NO_DATA_RGBA",
    "NO_SIGNAL_RGBA",
    "RSRP_RAMP",
    "hillshade",
    "hillshade_png",
    "png_data_uri",
    "png_palette",
    "rsrp_png",
    "to_display_grid",
]

_WEB_MERCATOR = CRS.from_epsg(3857)
_WGS84 = CRS.from_epsg(4326)

#: RSRP colour stops ``(dBm, "#rrggbb")``, weakest first; values are clipped to the ends.
RSRP_RAMP: tuple[tuple[float, str], ...] = (
    (-140.0, "#67001f"),
    (-125.0, "#d6604d"),
    (-115.0, "#f4a582"),
    (-108.0, "#fee08b"),
    (-100.0, "#a6d96a"),
    (-90.0, "#1a9850"),
    (-75.0, "#08519c"),
)
#: Colour of "no signal" cells (-200 dBm: no site reaches the cell).
NO_SIGNAL_RGBA: tuple[int, int, int, int] = (60, 0, 20, 150)  # a veil: the terrain shows through
#: Colour of the grey stripes that mark "no data" (NaN) cells; the gaps between are clear.
NO_DATA_RGBA: tuple[int, int, int, int] = (128, 128, 128, 255)

_RAMP_STEP_DB = 0.5  # palette resolution of the RSRP ramp
_N_RAMP = int((RSRP_RAMP[-1][0] - RSRP_RAMP[0][0]) / _RAMP_STEP_DB) + 1  # 131 palette entries


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def png_palette(index: np.ndarray, palette: np.ndarray) -> bytes:
    r"""Encode a 2-D ``uint8`` index image with an RGBA palette as an 8-bit PNG.

    Parameters
    ----------
    index
        Palette index per pixel, row 0 at the top.
    palette
        ``(n, 4)`` ``uint8`` RGBA entries, ``n <= 256``; alpha goes to the ``tRNS`` chunk.

    Examples
    --------
    >>> png = png_palette(np.array([[0, 1]], "uint8"), np.array([[0, 0, 0, 0], [255, 0, 0, 255]], "uint8"))
    >>> png[:8] == b"\x89PNG\r\n\x1a\n", png[12:16]
    (True, b'IHDR')
    """
    index = np.ascontiguousarray(index, dtype=np.uint8)
    palette = np.asarray(palette, dtype=np.uint8)
    if index.ndim != 2 or palette.ndim != 2 or palette.shape[1] != 4 or not 0 < len(palette) <= 256:
        raise ValueError(
            f"expected a 2-D index and an (n<=256, 4) palette, got {index.shape}, {palette.shape}"
        )
    rows, cols = index.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    # Filter type 0 (None) on every row: palette indices do not benefit from Sub/Up much.
    raw = np.concatenate([np.zeros((rows, 1), np.uint8), index], axis=1).tobytes()
    header = struct.pack(">IIBBBBB", cols, rows, 8, 3, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"PLTE", palette[:, :3].tobytes())
        + chunk(b"tRNS", palette[:, 3].tobytes())
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def png_data_uri(png: bytes) -> str:
    """Return ``png`` as a ``data:image/png;base64,...`` URI.

    Examples
    --------
    >>> png_data_uri(b"x")
    'data:image/png;base64,eA=='
    """
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def to_display_grid(
    array: np.ndarray,
    transform: Affine,
    crs: CRS,
    *,
    max_px: int,
    resampling: str = "nearest",
) -> tuple[np.ndarray, np.ndarray, tuple[tuple[float, float], tuple[float, float]]]:
    """Warp a grid to Web Mercator with at most ``max_px`` pixels on its long side.

    Returns
    -------
    values, inside, bounds
        The warped ``float32`` values (NaN = nodata or outside), a boolean mask of the
        pixels inside the source grid, and ``((south, west), (north, east))`` in degrees.
    """
    rows, cols = array.shape
    left, top = transform @ (0, 0)
    right, bottom = transform @ (cols, rows)
    dst_t, width, height = calculate_default_transform(
        crs, _WEB_MERCATOR, cols, rows, left=left, bottom=bottom, right=right, top=top
    )
    scale = max(width, height) / max(1, max_px)
    if scale > 1:
        width, height = max(1, math.ceil(width / scale)), max(1, math.ceil(height / scale))
        dst_t = dst_t * Affine.scale(scale)
    src = np.asarray(array, dtype=np.float32)
    out = np.full((height, width), np.nan, dtype=np.float32)
    inside = np.zeros((height, width), dtype=np.uint8)
    common = {
        "src_transform": transform,
        "src_crs": crs,
        "dst_transform": dst_t,
        "dst_crs": _WEB_MERCATOR,
    }
    # NaN marks nodata in the values; a separate mask tells "outside" from "no data".
    reproject(src, out, src_nodata=np.nan, dst_nodata=np.nan, resampling=Resampling[resampling], **common)
    reproject(
        np.ones_like(src, dtype=np.uint8),
        inside,
        src_nodata=0,
        dst_nodata=0,
        resampling=Resampling.nearest,
        **common,
    )
    x0, y0 = dst_t @ (0, 0)
    x1, y1 = dst_t @ (width, height)
    west, south, east, north = transform_bounds(_WEB_MERCATOR, _WGS84, x0, y1, x1, y0)
    return out, inside.astype(bool), ((south, west), (north, east))


def hillshade(
    elevation_m: np.ndarray,
    *,
    cell_size_m: float | tuple[float, float],
    azimuth_deg: float = 315.0,
    altitude_deg: float = 45.0,
    z_factor: float = 1.0,
) -> np.ndarray:
    """Return the illumination 0-1 of a north-up DEM lit from ``azimuth_deg``; NaN stays NaN.

    ``cell_size_m`` is the cell size in metres, or ``(row_height_m, column_width_m)``.

    Lambertian shading: the cosine between the surface normal ``(-p, -q, 1)`` (``p``, ``q``
    the eastward and northward slopes from ``numpy.gradient`` central differences) and
    the unit vector towards the sun.

    Examples
    --------
    >>> flat = hillshade(np.zeros((3, 3)), cell_size_m=30.0)
    >>> round(float(flat[1, 1]), 3)  # cos(45 degrees)
    0.707
    >>> bool(np.isnan(hillshade(np.full((2, 2), np.nan), cell_size_m=30.0)).all())
    True
    """
    z = np.asarray(elevation_m, dtype=np.float64) * z_factor
    if min(z.shape) < 2:
        return np.where(np.isnan(z), np.nan, math.cos(math.radians(90.0 - altitude_deg)))
    dy, dx = (cell_size_m, cell_size_m) if np.isscalar(cell_size_m) else cell_size_m  # type: ignore[misc]
    dz_drow, dz_dcol = np.gradient(z, dy, dx)
    p, q = dz_dcol, -dz_drow  # slopes eastwards and northwards (rows run south)
    zenith = math.radians(90.0 - altitude_deg)
    azimuth = math.radians(azimuth_deg)
    # Cosine between the surface normal (-p, -q, 1) and the unit vector towards the sun.
    towards_sun = math.sin(azimuth) * p + math.cos(azimuth) * q
    shade = (math.cos(zenith) - math.sin(zenith) * towards_sun) / np.sqrt(1.0 + p * p + q * q)
    return np.clip(shade, 0.0, 1.0)


def hillshade_png(shade: np.ndarray, inside: np.ndarray) -> bytes:
    """Encode a 0-1 illumination grid as a grey palette PNG (NaN or outside = clear).

    Examples
    --------
    >>> png = hillshade_png(np.array([[0.0, 1.0, np.nan]]), np.array([[True, True, True]]))
    >>> png[12:16]
    b'IHDR'
    """
    grey = np.linspace(70, 250, 255).round().astype(np.uint8)
    palette = np.zeros((256, 4), dtype=np.uint8)
    palette[1:, 0] = palette[1:, 1] = palette[1:, 2] = grey
    palette[1:, 3] = 255
    with np.errstate(invalid="ignore"):
        index = (np.nan_to_num(shade, nan=0.0) * 254).round().astype(np.uint8) + 1
    index[np.isnan(shade) | ~inside] = 0
    return png_palette(index, palette)


def _ramp_palette() -> np.ndarray:
    stops = np.array([s for s, _ in RSRP_RAMP])
    rgb = np.array([_hex_rgb(c) for _, c in RSRP_RAMP], dtype=np.float64)
    values = stops[0] + _RAMP_STEP_DB * np.arange(_N_RAMP)
    cols = np.stack([np.interp(values, stops, rgb[:, i]) for i in range(3)], axis=1)
    out = np.full((_N_RAMP, 4), 255, dtype=np.uint8)
    out[:, :3] = cols.round().astype(np.uint8)
    return out


def rsrp_png(rsrp_dbm: np.ndarray, inside: np.ndarray, *, floor_dbm: float = -200.0) -> bytes:
    """Encode RSRP (dBm) as a palette PNG on the :data:`RSRP_RAMP` colour ramp.

    Cells at or below ``floor_dbm`` (no site reaches them) get :data:`NO_SIGNAL_RGBA`;
    NaN cells inside the grid (unknown) get grey diagonal stripes; cells outside the
    grid are transparent.

    Examples
    --------
    >>> v = np.array([[-90.0, -200.0, np.nan, np.nan]], "float32")
    >>> rsrp_png(v, np.array([[True, True, True, False]]))[12:16]
    b'IHDR'
    """
    palette = np.zeros((3 + _N_RAMP, 4), dtype=np.uint8)  # 0 clear, 1 stripe, 2 no signal, 3.. ramp
    palette[1] = NO_DATA_RGBA
    palette[2] = NO_SIGNAL_RGBA
    palette[3:] = _ramp_palette()
    v = np.asarray(rsrp_dbm, dtype=np.float32)
    nan = np.isnan(v)
    lo = RSRP_RAMP[0][0]
    ramp = np.clip(np.round((np.nan_to_num(v, nan=lo) - lo) / _RAMP_STEP_DB), 0, _N_RAMP - 1)
    index = (ramp + 3).astype(np.uint8)
    index[~nan & (v <= floor_dbm)] = 2
    rows, cols = np.indices(v.shape)
    stripe = ((rows + cols) // 3) % 2 == 0  # 3-pixel diagonal hatch
    index[nan] = np.where(stripe[nan], 1, 0)
    index[~inside] = 0
    return png_palette(index, palette)
