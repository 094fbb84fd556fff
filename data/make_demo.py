#!/usr/bin/env python
"""Build the coverage-gaps demo dataset in ``data/demo/``.

The demo area is the part of Thái Nguyên (19) and Tuyên Quang (08) whose
post-2025 communes lie entirely inside the SRTM tile N21E105
(105–106 °E, 21–22 °N): 63 communes.

REAL inputs (read from ``--shared``, never from the product):

* commune polygons (``vn-provinces-db-2025``),
* 2019 census population by pre-2025 commune (``census2019-vn-demographic``)
  carried to the post-2025 communes through the official merge list
  (``dvhcvn-20250701``),
* the SRTM3 tile ``N21E105.hgt`` (copied unmodified).

SYNTHETIC outputs, drawn from random generators seeded by ``--seed``:

* ``villages.gpkg``: village centres placed on habitable ground,
* ``towers.csv``: base-station sectors of Viettel, VNPT and MobiFone,
* ``outages.csv``: crowd-sourced dead-zone reports.

Run ``python data/make_demo.py`` from the repository root. Running it twice
with the same seed gives byte-identical CSV and GeoJSON files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from rasterio.features import rasterize
from rasterio.transform import from_origin
from rasterio.warp import Resampling, reproject
from shapely.geometry import Point, box

# --------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------

#: CRS used for every metric computation (UTM zone 48N, WGS 84).
CRS_METRIC = "EPSG:32648"
#: CRS in which ``villages.gpkg`` is stored (VN-2000 / TM-3 106-30).
CRS_VN2000 = "EPSG:9213"
#: Geographic CRS of every other file.
CRS_WGS84 = "EPSG:4326"

TILE = "N21E105"
TILE_BOUNDS = (105.0, 21.0, 106.0, 22.0)
HGT_SIZE = 1201
HGT_VOID = -32768
DEM_RES_M = 90.0

PROVINCES = {
    "19": ("Thái Nguyên", "communes_19_thai_nguyen.geojson", "TN"),
    "08": ("Tuyên Quang", "communes_08_tuyen_quang.geojson", "TQ"),
}

MAX_SLOPE_DEG = 15.0
MIN_VILLAGE_SPACING_M = 400.0

OPERATORS = ("Viettel", "VNPT", "MobiFone")
OPERATOR_PREFIX = {"Viettel": "VT", "VNPT": "VP", "MobiFone": "MF"}

# Outages are reported over this period (local time, UTC+07:00).
REPORT_START = dt.datetime(2026, 2, 1)
REPORT_END = dt.datetime(2026, 10, 31, 23, 59)
TZ_VN = dt.timezone(dt.timedelta(hours=7))

# --------------------------------------------------------------------------
# Name material for synthetic villages and reporters
# --------------------------------------------------------------------------

# Tày/Nùng place-name syllables used in the hills (first syllable = landform:
# nà = rice field, khuổi = stream, pác = mouth, nặm = water, phiêng = flat
# upland, cốc = foot of a hill, khau = pass, lũng = hollow, bó = spring).
TAY_FIRST = [
    "Nà",
    "Khuổi",
    "Pác",
    "Nặm",
    "Phiêng",
    "Cốc",
    "Khau",
    "Lũng",
    "Bó",
    "Nà",
    "Khuổi",
    "Làng",
    "Đon",
    "Pù",
    "Tát",
]
TAY_SECOND = [
    "Lạ",
    "Mạn",
    "Mò",
    "Chang",
    "Pùng",
    "Tà",
    "Cáy",
    "Luông",
    "Vài",
    "Đẩy",
    "Nọi",
    "Hon",
    "Coóc",
    "Thốc",
    "Lài",
    "Pảng",
    "Tậu",
    "Khét",
    "Quang",
    "Muông",
    "Ngòa",
    "Liềng",
    "Rạo",
    "Mu",
    "Bản",
    "Sáng",
    "Hẩu",
    "Phầy",
    "Mưa",
    "Nhàu",
]
# Kinh (Sino-Vietnamese) names typical of lowland hamlets and wards.
KINH_NAMES = [
    "Đồng Tâm",
    "Tân Lập",
    "Quyết Tiến",
    "Hòa Bình",
    "Thắng Lợi",
    "Tiền Phong",
    "Đoàn Kết",
    "Trung Tâm",
    "Gò Chè",
    "Đồng Bầu",
    "Làng Mới",
    "Cầu Đá",
    "Tân Thành",
    "Thống Nhất",
    "Đồng Xe",
    "Bãi Bằng",
    "Đầm Mây",
    "Cây Thị",
    "Hợp Tiến",
    "Tân Sơn",
    "Phú Thọ",
    "Đồng Kiệm",
    "Núi Hột",
    "Cây Sy",
    "Trại Cau",
    "Đồng Chằm",
    "Soi Mít",
    "Chợ Gạo",
    "Đồng Mè",
    "Ao Sen",
    "Xuân Hòa",
    "Vườn Thông",
    "Đồng Cả",
    "Khe Mo",
    "Na Mao",
    "Tân Tiến",
    "Đồng Lạnh",
    "Đồng Rôm",
    "Hồng Phong",
    "Bình Minh",
    "Dộc Lầy",
    "Gốc Vải",
    "Quang Trung",
    "Đồng Tiến",
    "Đèo Khế",
    "Văn Nhân",
    "Làng Chùa",
    "Ba Gò",
    "Cầu Tre",
    "Đồng Danh",
]
WARD_NAMES = [
    "Tân Lập",
    "Hoàng Văn Thụ",
    "Quang Trung",
    "Đồng Quang",
    "Phan Đình Phùng",
    "Túc Duyên",
    "Trưng Vương",
    "Gia Sàng",
    "Bắc Sơn",
    "Nam Sơn",
    "Đội Cấn",
    "Tân Thịnh",
    "Minh Cầu",
    "Cải Đan",
    "Phố Cò",
    "Thắng Lợi",
    "Ga",
    "Chợ",
    "Bến Xe",
    "Đoàn Kết",
    "Cây Xăng",
    "Xuân Hòa",
    "Hồng Tiến",
    "Ba Hàng",
]

FAMILY_NAMES = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Vũ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Ngô",
    "Dương",
    "Lý",
    "Ma",
    "Lường",
    "Nông",
    "La",
    "Hà",
    "Triệu",
    "Lục",
    "Mông",
]
MIDDLE_NAMES = ["Văn", "Thị", "Đức", "Minh", "Thu", "Ngọc", "Quang", "Hữu", "Thanh", "Xuân", "Kim", "Công"]
GIVEN_NAMES = [
    "An",
    "Bình",
    "Chiến",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hiền",
    "Hoa",
    "Hùng",
    "Hương",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Nga",
    "Phúc",
    "Quân",
    "Sơn",
    "Tâm",
    "Thắng",
    "Thảo",
    "Thủy",
    "Trang",
    "Trung",
    "Tuấn",
    "Vân",
    "Yến",
]


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def _window_sum(a: np.ndarray, r: int) -> np.ndarray:
    """Sum of ``a`` over a square window of half-width ``r`` cells.

    Parameters
    ----------
    a : numpy.ndarray
        2-D array; cells outside the array count as zero.
    r : int
        Half-width of the window, in cells.

    Returns
    -------
    numpy.ndarray
        Array of the same shape as ``a``.
    """
    k = 2 * r + 1
    p = np.pad(a.astype(np.float64), r, mode="constant")
    c = np.pad(p.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    return c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]


def box_stats(z: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """NaN-aware moving-window mean and standard deviation.

    Parameters
    ----------
    z : numpy.ndarray
        2-D array, NaN for missing cells.
    r : int
        Half-width of the square window, in cells.

    Returns
    -------
    mean, std : numpy.ndarray
        Window mean and standard deviation over the valid cells.
    """
    valid = np.isfinite(z)
    z0 = np.where(valid, z, 0.0)
    n = np.maximum(_window_sum(valid, r), 1.0)
    mean = _window_sum(z0, r) / n
    var = _window_sum(z0 * z0, r) / n - mean**2
    return mean, np.sqrt(np.maximum(var, 0.0))


def allocate_integer(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total proportionally to weights (largest remainder).

    Parameters
    ----------
    total : int
        Integer to split.
    weights : numpy.ndarray
        Non-negative weights, one per part.

    Returns
    -------
    numpy.ndarray
        Integers that sum exactly to ``total``.
    """
    w = np.asarray(weights, dtype=float)
    raw = total * w / w.sum()
    out = np.floor(raw).astype(int)
    rest = total - out.sum()
    order = np.argsort(-(raw - out), kind="stable")
    out[order[:rest]] += 1
    return out


def rank01(x: np.ndarray) -> np.ndarray:
    """Rank-transform an array to the interval [0, 1].

    Parameters
    ----------
    x : numpy.ndarray
        Values to rank.

    Returns
    -------
    numpy.ndarray
        ``0`` for the smallest value, ``1`` for the largest.
    """
    order = np.argsort(np.argsort(x, kind="stable"), kind="stable")
    return order / max(len(x) - 1, 1)


def pairwise_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between two sets of 2-D points.

    Parameters
    ----------
    a : numpy.ndarray
        ``(n, 2)`` array.
    b : numpy.ndarray
        ``(m, 2)`` array.

    Returns
    -------
    numpy.ndarray
        ``(n, m)`` distance matrix.
    """
    return np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])


def fmt(x: float, nd: int) -> str:
    """Format a float with a fixed number of decimals, empty for NaN.

    Parameters
    ----------
    x : float
        Value.
    nd : int
        Decimals.

    Returns
    -------
    str
        The formatted value, or ``""`` when ``x`` is NaN/None.
    """
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    return f"{x:.{nd}f}"


# --------------------------------------------------------------------------
# DEM
# --------------------------------------------------------------------------


class Dem:
    """The SRTM3 tile, plus derived rasters on a 90 m UTM 48N grid.

    Parameters
    ----------
    hgt_path : pathlib.Path
        Path to ``N21E105.hgt``.

    Attributes
    ----------
    raw : numpy.ndarray
        The tile as int16, north row first (voids = -32768).
    z, slope, rel, relief : numpy.ndarray
        Elevation (m, NaN on voids), slope (degrees), elevation relative to
        the 2.5 km window mean (m; negative = valley floor), and local relief
        (window standard deviation, m), all on the UTM grid.
    usable : numpy.ndarray
        True where elevation is known and no void lies within one cell.
    transform : affine.Affine
        Transform of the UTM grid.
    """

    def __init__(self, hgt_path: Path) -> None:
        raw = np.fromfile(hgt_path, dtype=">i2")
        if raw.size != HGT_SIZE * HGT_SIZE:
            raise ValueError(f"{hgt_path} is not an SRTM3 tile")
        self.raw = raw.reshape(HGT_SIZE, HGT_SIZE).astype(np.int16)
        step = 1.0 / (HGT_SIZE - 1)
        # Samples are points: the first one is at (105 E, 22 N).
        src_transform = from_origin(105.0 - step / 2, 22.0 + step / 2, step, step)
        src = np.where(self.raw == HGT_VOID, np.nan, self.raw).astype(np.float32)

        # UTM grid covering the tile.
        tr = Transformer.from_crs(CRS_WGS84, CRS_METRIC, always_xy=True)
        lons = np.r_[np.linspace(105, 106, 50), np.full(50, 106), np.linspace(106, 105, 50), np.full(50, 105)]
        lats = np.r_[np.full(50, 21), np.linspace(21, 22, 50), np.full(50, 22), np.linspace(22, 21, 50)]
        xs, ys = tr.transform(lons, lats)
        x0 = np.floor(min(xs) / DEM_RES_M) * DEM_RES_M
        y1 = np.ceil(max(ys) / DEM_RES_M) * DEM_RES_M
        width = int(np.ceil((max(xs) - x0) / DEM_RES_M))
        height = int(np.ceil((y1 - min(ys)) / DEM_RES_M))
        self.transform = from_origin(x0, y1, DEM_RES_M, DEM_RES_M)
        self.shape = (height, width)

        z = np.full(self.shape, np.nan, dtype=np.float32)
        reproject(
            src,
            z,
            src_transform=src_transform,
            src_crs=CRS_WGS84,
            src_nodata=np.nan,
            dst_transform=self.transform,
            dst_crs=CRS_METRIC,
            dst_nodata=np.nan,
            resampling=Resampling.bilinear,
        )
        void = np.isnan(z)
        # Any void (or tile edge) within one cell makes a cell unusable.
        near_void = _window_sum(void, 1) > 0
        self.z = z.astype(np.float64)
        gy, gx = np.gradient(self.z, DEM_RES_M)
        self.slope = np.degrees(np.arctan(np.hypot(gx, gy)))
        mean, std = box_stats(self.z, 14)  # 29 x 29 cells = 2.6 km
        self.rel = self.z - mean
        self.relief = std
        self.usable = ~near_void & np.isfinite(self.slope)

    def cell_xy(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """UTM coordinates of cell centres.

        Parameters
        ----------
        rows, cols : numpy.ndarray
            Cell indices.

        Returns
        -------
        numpy.ndarray
            ``(n, 2)`` array of x, y.
        """
        t = self.transform
        return np.c_[t.c + (cols + 0.5) * t.a, t.f + (rows + 0.5) * t.e]

    def rowcol(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cell indices of UTM points (clipped to the grid).

        Parameters
        ----------
        xy : numpy.ndarray
            ``(n, 2)`` array of x, y.

        Returns
        -------
        rows, cols : numpy.ndarray
        """
        t = self.transform
        cols = np.floor((xy[:, 0] - t.c) / t.a).astype(int)
        rows = np.floor((xy[:, 1] - t.f) / t.e).astype(int)
        return (np.clip(rows, 0, self.shape[0] - 1), np.clip(cols, 0, self.shape[1] - 1))

    def sample(self, xy: np.ndarray, arr: np.ndarray) -> np.ndarray:
        """Nearest-cell values of a UTM-grid raster at UTM points.

        Parameters
        ----------
        xy : numpy.ndarray
            ``(n, 2)`` array of x, y.
        arr : numpy.ndarray
            Raster on the UTM grid (e.g. ``self.z``).

        Returns
        -------
        numpy.ndarray
        """
        r, c = self.rowcol(xy)
        return arr[r, c]

    def raw_void_near(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """True where any of the four raw samples around a point is a void.

        Parameters
        ----------
        lon, lat : numpy.ndarray
            WGS 84 coordinates.

        Returns
        -------
        numpy.ndarray
            Boolean array.
        """
        fc = (np.asarray(lon) - 105.0) * (HGT_SIZE - 1)
        fr = (22.0 - np.asarray(lat)) * (HGT_SIZE - 1)
        out = np.zeros(len(fc), dtype=bool)
        for dr in (0, 1):
            for dc in (0, 1):
                r = np.clip(np.floor(fr).astype(int) + dr, 0, HGT_SIZE - 1)
                c = np.clip(np.floor(fc).astype(int) + dc, 0, HGT_SIZE - 1)
                out |= self.raw[r, c] == HGT_VOID
        return out


# --------------------------------------------------------------------------
# Communes and population (REAL)
# --------------------------------------------------------------------------


def load_communes(shared: Path) -> gpd.GeoDataFrame:
    """Read the post-2025 communes lying entirely inside the SRTM tile.

    Parameters
    ----------
    shared : pathlib.Path
        The ``shared`` folder (``<shared>/data/real/...``).

    Returns
    -------
    geopandas.GeoDataFrame
        Communes in EPSG:4326 with the demo column names, no population yet.
    """
    tile = box(*TILE_BOUNDS)
    parts = []
    for pcode, (pname, fname, _) in PROVINCES.items():
        g = gpd.read_file(shared / "data/real/vn-provinces-db-2025" / fname)
        g = g[g.within(tile)].copy()
        g["province"] = pname
        g["province_code"] = pcode
        parts.append(g)
    g = pd.concat(parts, ignore_index=True)
    g = g.rename(
        columns={"code": "commune_code", "fullName": "full_name", "nameEn": "name_en", "areaKm2": "area_km2"}
    )
    g = g.sort_values("commune_code", kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(
        g[
            [
                "commune_code",
                "name",
                "full_name",
                "name_en",
                "province",
                "province_code",
                "area_km2",
                "geometry",
            ]
        ],
        geometry="geometry",
        crs=CRS_WGS84,
    )


def carry_population(shared: Path, codes: list[str]) -> tuple[pd.Series, dict]:
    """Carry 2019 census population to post-2025 communes.

    Each pre-2025 commune's 2019 population goes to the new commune(s) it
    was merged into. An old commune split among ``k`` new communes
    (``merge_type == "partial"``) gives ``1/k`` of its population to each,
    because the merge list carries no split ratio. Census rows whose code
    was matched twice keep only the ``exact`` match.

    Parameters
    ----------
    shared : pathlib.Path
        The ``shared`` folder.
    codes : list of str
        Post-2025 commune codes of the demo area.

    Returns
    -------
    population : pandas.Series
        Integer population indexed by new commune code.
    stats : dict
        Linkage statistics for the report and README.
    """
    real = shared / "data/real"
    census = pd.read_csv(real / "census2019-vn-demographic/population_2019_by_commune.csv", dtype=str)
    census["pop_total"] = census["pop_total"].astype(int)
    merges = pd.read_csv(real / "dvhcvn-20250701/commune_merges_old_to_new.csv", dtype=str)

    linked = census.dropna(subset=["gso_commune_id_2025_03"]).copy()
    linked["_exact"] = linked["code_match"].eq("exact")
    linked = linked.sort_values(["gso_commune_id_2025_03", "_exact"], ascending=[True, False], kind="stable")
    n_dupes = int(linked["gso_commune_id_2025_03"].duplicated().sum())
    linked = linked.drop_duplicates("gso_commune_id_2025_03", keep="first")
    merges = merges.drop_duplicates(["old_commune_id", "new_commune_id"])
    relinked = relink_by_bare_name(census, linked, merges)
    linked = pd.concat([linked, relinked]).sort_index()
    pop_old = linked.set_index("gso_commune_id_2025_03")["pop_total"]

    k = merges.groupby("old_commune_id")["new_commune_id"].transform("size")
    merges["share"] = merges["old_commune_id"].map(pop_old) / k
    new_pop = merges.groupby("new_commune_id")["share"].sum(min_count=1)
    population = new_pop.reindex(codes).fillna(0).round().astype(int)

    # Linkage statistics over the old districts feeding the demo area.
    feeding = merges[merges["new_commune_id"].isin(codes)]
    old_ids = set(feeding["old_commune_id"])
    rows = linked[linked["gso_commune_id_2025_03"].isin(old_ids)]
    districts = set(zip(rows["province"], rows["district"], strict=False))
    linked_ok = set(linked.index[linked["gso_commune_id_2025_03"].isin(set(merges["old_commune_id"]))])
    in_d = census[[pd_ in districts for pd_ in zip(census["province"], census["district"], strict=False)]]
    in_d_linked = in_d[in_d.index.isin(linked_ok)]
    stats = {
        "census_rows_dropped_as_duplicate_code": n_dupes,
        "census_rows_relinked_by_bare_name": len(relinked),
        "old_communes_feeding_demo": len(old_ids),
        "old_communes_with_census_row": len(rows),
        "old_communes_split": int(
            feeding.loc[feeding["merge_type"] == "partial", "old_commune_id"].nunique()
        ),
        "old_districts": len(districts),
        "pop_2019_old_districts": int(in_d["pop_total"].sum()),
        "pop_2019_old_districts_linked": int(in_d_linked["pop_total"].sum()),
        "communes_with_unlinked_old_unit": int(
            feeding.loc[~feeding["old_commune_id"].isin(pop_old.index), "new_commune_id"].nunique()
        ),
        "pop_demo_total": int(population.sum()),
        "communes_without_population": int((population == 0).sum()),
    }
    stats["linked_share"] = stats["pop_2019_old_districts_linked"] / stats["pop_2019_old_districts"]
    return population, stats


_UNIT_PREFIXES = ("thị trấn ", "phường ", "xã ")
_TONE_FIX = {
    "oà": "òa",
    "oá": "óa",
    "oả": "ỏa",
    "oã": "õa",
    "oạ": "ọa",
    "oè": "òe",
    "oé": "óe",
    "oẻ": "ỏe",
    "oẽ": "õe",
    "oẹ": "ọe",
    "uỳ": "ùy",
    "uý": "úy",
    "uỷ": "ủy",
    "uỹ": "ũy",
    "uỵ": "ụy",
}


def bare_name(name: str) -> str:
    """Commune name without its unit type, lower-cased, new-style tone marks.

    Parameters
    ----------
    name : str
        For example ``"Xã Trung Thành"`` or ``"Phường Thuận Thành"``.

    Returns
    -------
    str
        For example ``"trung thành"``.
    """
    n = unicodedata.normalize("NFC", str(name)).strip().lower()
    for p in _UNIT_PREFIXES:
        if n.startswith(p):
            n = n[len(p) :]
            break
    for old, new in _TONE_FIX.items():
        n = n.replace(old, new)
    return n.lstrip("0") if n.isdigit() else n


def relink_by_bare_name(census: pd.DataFrame, linked: pd.DataFrame, merges: pd.DataFrame) -> pd.DataFrame:
    """Link census rows left unmatched because the unit type changed.

    Many communes were upgraded after 2019 (``Xã Trung Thành`` became
    ``Phường Trung Thành``), so the census name no longer matched. Such a
    row is linked to the old code whose bare name (no unit type) is the same,
    within the same post-2025 province, when that code has no census row yet
    and the match is unique on both sides.

    Parameters
    ----------
    census : pandas.DataFrame
        The census table.
    linked : pandas.DataFrame
        Census rows already linked by code (one per code).
    merges : pandas.DataFrame
        The old -> new merge table.

    Returns
    -------
    pandas.DataFrame
        Newly linked census rows, with ``gso_commune_id_2025_03`` filled.
    """
    # Post-2025 province of each pre-2025 census province (majority vote).
    new_prov = merges.drop_duplicates("old_commune_id").set_index("old_commune_id")["new_province_id"]
    lp = linked.assign(new_prov=linked["gso_commune_id_2025_03"].map(new_prov)).dropna(subset=["new_prov"])
    prov_map = lp.groupby("province")["new_prov"].agg(lambda x: x.value_counts().index[0])

    free = merges[~merges["old_commune_id"].isin(set(linked["gso_commune_id_2025_03"]))]
    free = free.drop_duplicates("old_commune_id")
    free_key = list(zip(free["new_province_id"], free["old_commune_name"].map(bare_name), strict=False))
    free = free.assign(key=free_key)
    free = free[~free["key"].duplicated(keep=False)].set_index("key")["old_commune_id"]

    todo = census[census["gso_commune_id_2025_03"].isna()].copy()
    todo["key"] = list(zip(todo["province"].map(prov_map), todo["commune"].map(bare_name), strict=False))
    todo = todo[~todo["key"].duplicated(keep=False) & todo["key"].isin(free.index)]
    todo["gso_commune_id_2025_03"] = todo["key"].map(free)
    todo["code_match"] = "bare_name"
    return todo.drop(columns="key")


# --------------------------------------------------------------------------
# Villages (SYNTHETIC)
# --------------------------------------------------------------------------


def village_count(pop: int, is_ward: bool, rng: np.random.Generator) -> int:
    """Number of villages (thôn/xóm/bản) or wards' residential groups.

    Parameters
    ----------
    pop : int
        Commune population.
    is_ward : bool
        True for a ward (phường), which gets more, denser units.
    rng : numpy.random.Generator

    Returns
    -------
    int
        Between 5 and 20.
    """
    if is_ward:
        n = pop / 1400 + rng.integers(0, 3)
        return int(np.clip(round(n), 12, 20))
    n = pop / 1500 + rng.integers(-1, 2)
    return int(np.clip(round(n), 5, 18))


def village_names(
    n: int, hill: np.ndarray, is_ward: bool, province: str, rng: np.random.Generator
) -> list[str]:
    """Plausible synthetic hamlet names, unique within a commune.

    Parameters
    ----------
    n : int
        Number of names.
    hill : numpy.ndarray
        Mountain score in [0, 1] per village; hill villages get Tày names.
    is_ward : bool
        Wards use ``Tổ dân phố`` (residential group) names.
    province : str
        Thái Nguyên hamlets are mostly ``Xóm``, Tuyên Quang ones ``Thôn``.
    rng : numpy.random.Generator

    Returns
    -------
    list of str
    """
    used: set[str] = set()
    names = []
    for i in range(n):
        for _ in range(200):
            if is_ward:
                if rng.random() < 0.5:
                    name = f"Tổ dân phố {rng.integers(1, 40)}"
                else:
                    name = f"Tổ dân phố {WARD_NAMES[rng.integers(len(WARD_NAMES))]}"
            elif hill[i] > 0.6 and rng.random() < 0.75:
                prefix = "Bản" if rng.random() < 0.5 else ("Thôn" if province == "Tuyên Quang" else "Xóm")
                name = (
                    f"{prefix} {TAY_FIRST[rng.integers(len(TAY_FIRST))]} "
                    f"{TAY_SECOND[rng.integers(len(TAY_SECOND))]}"
                )
            else:
                prefix = "Thôn" if (province == "Tuyên Quang") ^ (rng.random() < 0.15) else "Xóm"
                name = f"{prefix} {KINH_NAMES[rng.integers(len(KINH_NAMES))]}"
            if name not in used:
                break
        used.add(name)
        names.append(name)
    return names


def place_villages(communes_m: gpd.GeoDataFrame, dem: Dem, rng: np.random.Generator) -> pd.DataFrame:
    """Place village centres on habitable ground.

    A cell is a candidate when its centre is inside the commune, its slope
    is under 15 degrees and no DEM void lies within one cell. Candidates are
    drawn one by one with weights favouring valley floors (elevation below
    the 2.6 km window mean) and flat ground; any cell closer than 400 m to
    an already placed village (in any commune) is then dropped.

    Parameters
    ----------
    communes_m : geopandas.GeoDataFrame
        Communes in UTM 48N, with ``population`` and ``is_ward``.
    dem : Dem
    rng : numpy.random.Generator

    Returns
    -------
    pandas.DataFrame
        One row per village with ``x``, ``y`` (UTM) and ``commune_code``.
    """
    ids = rasterize(
        ((geom, i + 1) for i, geom in enumerate(communes_m.geometry)),
        out_shape=dem.shape,
        transform=dem.transform,
        fill=0,
        dtype="int32",
    )
    ok = dem.usable & (dem.slope < MAX_SLOPE_DEG)
    placed = np.empty((0, 2))
    rows = []
    for i, c in enumerate(communes_m.itertuples()):
        r, cc = np.nonzero((ids == i + 1) & ok)
        xy = dem.cell_xy(r, cc)
        rel = np.clip(dem.rel[r, cc], -150, 400)
        flat = 1.0 - dem.slope[r, cc] / MAX_SLOPE_DEG
        sigma = 80.0 if c.is_ward else 35.0
        w = np.exp(-rel / sigma) * (0.2 + flat) + 1e-9
        if len(placed):
            w[pairwise_dist(xy, placed).min(axis=1) < MIN_VILLAGE_SPACING_M] = 0
        n = village_count(int(c.population), bool(c.is_ward), rng)
        got = 0
        while got < n and w.sum() > 1e-6:
            j = rng.choice(len(w), p=w / w.sum())
            # Jitter within the cell; keep the cell centre if that leaves the commune.
            p = xy[j] + rng.uniform(-30, 30, 2)
            too_close = len(placed) and pairwise_dist(p[None], placed).min() < MIN_VILLAGE_SPACING_M
            if too_close or not c.geometry.contains(Point(p)):
                p = xy[j]  # the cell centre itself is inside and far enough
            w[np.hypot(xy[:, 0] - p[0], xy[:, 1] - p[1]) < MIN_VILLAGE_SPACING_M] = 0
            placed = np.vstack([placed, p])
            rows.append({"commune_code": c.commune_code, "x": p[0], "y": p[1]})
            got += 1
        if got < 5:
            raise RuntimeError(f"only {got} villages fit in {c.commune_code}")
    return pd.DataFrame(rows)


def village_attributes(
    v: pd.DataFrame, communes_m: gpd.GeoDataFrame, dem: Dem, rng: np.random.Generator
) -> pd.DataFrame:
    """Add names, population and services to the placed villages.

    The *mountain score* ``hill`` (0 = lowland town edge, 1 = remote upland)
    combines the ranks of elevation (50 %), local relief (30 %) and distance
    to the nearest ward (20 %). It drives Tày names, smaller populations,
    missing grid power and the "extremely difficult" flag.

    Parameters
    ----------
    v : pandas.DataFrame
        Output of :func:`place_villages`.
    communes_m : geopandas.GeoDataFrame
        Communes in UTM 48N with ``population``, ``is_ward``, ``province``.
    dem : Dem
    rng : numpy.random.Generator

    Returns
    -------
    pandas.DataFrame
        ``v`` with ``village_id``, ``name``, ``commune_name``, ``province``,
        ``population``, ``households``, ``has_grid_power``,
        ``extremely_difficult``, ``schools``, ``health_stations``,
        ``elev_m``, ``hill`` and ``is_ward``.
    """
    cm = communes_m.set_index("commune_code")
    xy = v[["x", "y"]].to_numpy()
    v["elev_m"] = dem.sample(xy, dem.z)
    relief = dem.sample(xy, dem.relief)
    wards = communes_m[communes_m.is_ward].geometry.representative_point()
    d_town = pairwise_dist(xy, np.c_[wards.x, wards.y]).min(axis=1)
    v["is_ward"] = v["commune_code"].map(cm["is_ward"]).astype(bool)
    v["hill"] = 0.5 * rank01(v["elev_m"].to_numpy()) + 0.3 * rank01(relief) + 0.2 * rank01(d_town)
    v.loc[v.is_ward, "hill"] *= 0.3
    v["commune_name"] = v["commune_code"].map(cm["name"])
    v["province"] = v["commune_code"].map(cm["province"])

    out = []
    for code, g in v.groupby("commune_code", sort=True):
        g = g.sort_values(["y", "x"], ascending=[False, True]).copy()  # north to south
        n = len(g)
        g["village_id"] = [f"{code}-{k + 1:02d}" for k in range(n)]
        g["name"] = village_names(
            n, g["hill"].to_numpy(), bool(g["is_ward"].iloc[0]), g["province"].iloc[0], rng
        )
        # Population: seeded gamma weights, bigger in the lowlands; the
        # lowest village is the commune centre and gets a double weight.
        w = rng.gamma(4.0, 1.0, n) * (1.6 - g["hill"].to_numpy())
        centre = int(np.argmin(g["hill"].to_numpy()))
        w[centre] *= 2.0
        w = np.maximum(w, 0.25 * w.mean())
        g["population"] = allocate_integer(int(cm.loc[code, "population"]), w)
        g["households"] = np.maximum(1, np.round(g["population"] / rng.normal(4.2, 0.2, n))).astype(int)
        # Services: the commune centre has the health station and 2 schools.
        big = g["population"].to_numpy() > np.median(g["population"])
        schools = np.where(rng.random(n) < np.where(big, 0.45, 0.15), 1, 0)
        schools[centre] = 2
        health = (rng.random(n) < 0.03).astype(int)
        health[centre] = 1
        g["schools"] = schools
        g["health_stations"] = health
        g["is_centre"] = np.arange(n) == centre
        out.append(g)
    v = pd.concat(out, ignore_index=True)

    h = v["hill"].to_numpy()
    p_nopower = np.where(v.is_ward, 0.0, 0.005 + 0.45 * h**6)
    v["has_grid_power"] = ~(rng.random(len(v)) < p_nopower)
    p_diff = np.where(v.is_ward, 0.0, 0.03 + 0.75 * h**3)
    v["extremely_difficult"] = rng.random(len(v)) < p_diff
    # A village without grid power is always flagged extremely difficult.
    v.loc[~v.has_grid_power, "extremely_difficult"] = True
    return v


# --------------------------------------------------------------------------
# Towers (SYNTHETIC)
# --------------------------------------------------------------------------

#: Greedy coverage radius (m) in rural communes / wards, and the share of the
#: served population each operator wants within that radius.
OPERATOR_PLAN = {
    "Viettel": {"r_rural": 4200.0, "r_ward": 2000.0, "target": 0.98},
    "VNPT": {"r_rural": 4400.0, "r_ward": 2200.0, "target": 0.95},
    "MobiFone": {"r_rural": 4600.0, "r_ward": 2300.0, "target": 0.93},
}
#: Share of a remote region's villages that defines the dead zones: the most
#: "hilly" villages, which no operator serves.
GAP_SHARE = 0.13
#: No site is built within this distance of a dead-zone village.
GAP_EXCLUSION_M = 6500.0


def plan_sites(v: pd.DataFrame, dem: Dem, rng: np.random.Generator) -> pd.DataFrame:
    """Choose site locations for each operator by greedy population cover.

    Viettel first builds one site at every commune centre (the universal
    service rule: every commune centre has 4G). Then each operator
    repeatedly builds a site where it covers the most not-yet-covered
    population within its radius (smaller in wards), until its target share
    of the served population is covered. Sites sit near a village (150–500 m
    off its centre); a quarter of greedy rural sites move to a nearby hill
    that overlooks the village instead. VNPT and MobiFone sometimes share an
    existing mast of another operator (same coordinates, their own site id).

    The most remote villages (:data:`GAP_SHARE` of all, by mountain score)
    are the dead zones: apart from the commune-centre sites, no site is built
    within :data:`GAP_EXCLUSION_M` of them.

    Parameters
    ----------
    v : pandas.DataFrame
        Villages with ``x``, ``y``, ``population``, ``hill``, ``is_ward``,
        ``is_centre``, ``province``.
    dem : Dem
    rng : numpy.random.Generator

    Returns
    -------
    pandas.DataFrame
        One row per site: ``operator``, ``x``, ``y``, ``province``,
        ``is_ward``, ``hilltop``, ``shared_mast``, ``village_idx``. The
        indices of the dead-zone villages are in ``attrs["gap_villages"]``.
    """
    xy = v[["x", "y"]].to_numpy()
    pop = v["population"].to_numpy().astype(float)
    rural = ~v["is_ward"].to_numpy()
    n_gap = round(GAP_SHARE * len(v))
    gap = np.zeros(len(v), dtype=bool)
    gap[np.argsort(-np.where(rural, v["hill"].to_numpy(), -1), kind="stable")[:n_gap]] = True
    servable = pairwise_dist(xy, xy[gap]).min(axis=1) >= 0.55 * GAP_EXCLUSION_M
    dist_vv = pairwise_dist(xy, xy)

    def allowed(p: np.ndarray) -> bool:
        """True if a site may stand at ``p``: outside dead zones, not on a void."""
        if np.hypot(*(xy[gap] - p).T).min() < GAP_EXCLUSION_M:
            return False
        r, c = dem.rowcol(p[None])
        return bool(dem.usable[r[0], c[0]])

    def near_village(k: int, check: bool) -> np.ndarray:
        """A usable spot 150–500 m from village ``k`` (its centre if none)."""
        for _ in range(20):
            ang, dist = rng.uniform(0, 2 * np.pi), rng.uniform(150, 500)
            p = xy[k] + dist * np.array([np.cos(ang), np.sin(ang)])
            r, c = dem.rowcol(p[None])
            if dem.usable[r[0], c[0]] and (not check or allowed(p)):
                return p
        return xy[k].copy()

    sites: list[dict] = []

    def add(op: str, k: int, p: np.ndarray, hilltop: bool, shared: bool) -> None:
        sites.append(
            {
                "operator": op,
                "x": float(p[0]),
                "y": float(p[1]),
                "province": v["province"].iat[k],
                "is_ward": bool(v["is_ward"].iat[k]),
                "hilltop": hilltop,
                "shared_mast": shared,
                "village_idx": k,
            }
        )

    for k in np.flatnonzero(v["is_centre"].to_numpy()):
        add("Viettel", int(k), near_village(int(k), check=False), False, False)

    for op in OPERATORS:
        plan = OPERATOR_PLAN[op]
        radius = np.where(rural, plan["r_rural"], plan["r_ward"])
        covers = dist_vv <= radius[:, None]  # candidate (village) -> villages
        covered = np.zeros(len(v), dtype=bool)
        for st in sites:
            if st["operator"] == op:
                covered |= np.hypot(*(xy - [st["x"], st["y"]]).T) <= radius[st["village_idx"]]
        cand_ok = np.array([allowed(p) for p in xy])
        total = pop[servable].sum()
        while pop[covered & servable].sum() < plan["target"] * total:
            gain = (covers & (~covered & servable)[None, :]) @ pop
            gain[~cand_ok] = 0
            k = int(np.argmax(gain))
            if gain[k] <= 0:
                break
            p, hilltop, shared = None, False, False
            other = [st for st in sites if st["operator"] != op]
            if op != "Viettel" and rng.random() < 0.2:
                oxy = np.array([[st["x"], st["y"]] for st in other])
                d = np.hypot(*(oxy - xy[k]).T)
                j = int(np.argmin(d))
                if d[j] < 1500 and allowed(oxy[j]):
                    p, hilltop, shared = oxy[j], other[j]["hilltop"], True
            if p is None and rural[k] and rng.random() < 0.25:
                p = hill_site(xy[k], dem)
                if p is not None and not allowed(p):
                    p = None
                hilltop = p is not None
            if p is None:
                p = near_village(k, check=True)
            covered |= np.hypot(*(xy - p).T) <= radius[k]
            covered[k] = True
            cand_ok[k] = False
            add(op, k, p, hilltop, shared)
    out = pd.DataFrame(sites)
    out.attrs["gap_villages"] = np.flatnonzero(gap)
    return out


def hill_site(p: np.ndarray, dem: Dem) -> np.ndarray | None:
    """Highest usable cell within 1.5 km of a point, if 40 m or more above it.

    Parameters
    ----------
    p : numpy.ndarray
        UTM x, y of the village.
    dem : Dem

    Returns
    -------
    numpy.ndarray or None
        UTM x, y of the hill cell, or None if there is no such hill.
    """
    r0, c0 = (int(a[0]) for a in dem.rowcol(p[None]))
    k = int(1500 / DEM_RES_M)
    r1, r2 = max(r0 - k, 0), min(r0 + k + 1, dem.shape[0])
    c1, c2 = max(c0 - k, 0), min(c0 + k + 1, dem.shape[1])
    z = np.where(dem.usable[r1:r2, c1:c2], dem.z[r1:r2, c1:c2], -np.inf)
    rr, cc = np.mgrid[r1:r2, c1:c2]
    z[np.hypot(rr - r0, cc - c0) * DEM_RES_M > 1500] = -np.inf
    j = np.unravel_index(int(np.argmax(z)), z.shape)
    if not np.isfinite(z[j]) or z[j] < dem.z[r0, c0] + 40:
        return None
    return dem.cell_xy(np.array([rr[j]]), np.array([cc[j]]))[0]


def site_sectors(sites: pd.DataFrame, v: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Turn sites into the rows of ``towers.csv`` (one row per sector).

    Parameters
    ----------
    sites : pandas.DataFrame
        Output of :func:`plan_sites`, with ``lon``, ``lat`` added.
    v : pandas.DataFrame
        Villages (used to find the large commune centres that get 5G).
    rng : numpy.random.Generator

    Returns
    -------
    towers : pandas.DataFrame
        Columns of ``towers.csv``.
    site_table : pandas.DataFrame
        One row per site: ``site_id``, ``operator``, ``x``, ``y``, ``status``,
        ``power_source``, ``has_5g``, ``is_ward``, ``hilltop``, ``shared_mast``.
    """
    # 5G outside wards: Viettel sites within 1 km of the centre of the five
    # most populous rural communes.
    cpop = v[~v.is_ward].groupby("commune_code")["population"].sum()
    big = cpop.sort_values(ascending=False, kind="stable").index[:5]
    centres = v[v.commune_code.isin(big) & v.is_centre][["x", "y"]].to_numpy()

    counters: dict[str, int] = {}
    rows = []
    site_rows = []
    rank = sites.operator.map({o: i for i, o in enumerate(OPERATORS)})
    order = sites.assign(_rank=rank).sort_values(
        ["_rank", "province", "y", "x"], ascending=[True, True, False, True], kind="stable"
    )
    for s in order.itertuples():
        pkey = "TN" if s.province == "Thái Nguyên" else "TQ"
        key = f"{OPERATOR_PREFIX[s.operator]}-{pkey}"
        counters[key] = counters.get(key, 0) + 1
        site_id = f"{key}-{counters[key]:04d}"

        near_centre = len(centres) and np.hypot(*(centres - [s.x, s.y]).T).min() < 1000
        p5g = {"Viettel": 0.6, "VNPT": 0.35, "MobiFone": 0.35}[s.operator] if s.is_ward else 0.0
        if s.operator == "Viettel" and near_centre:
            p5g = 1.0
        has_5g = rng.random() < p5g
        omni = (not s.is_ward) and (not has_5g) and rng.random() < 0.18

        if s.is_ward:
            band = rng.choice([1800, 2100, 900], p=[0.5, 0.3, 0.2])
            height = int(rng.integers(25, 36))
        elif s.operator == "Viettel":
            band = rng.choice([700, 900, 1800], p=[0.4, 0.4, 0.2])
            height = int(rng.integers(30, 46))
        else:
            band = rng.choice([900, 1800], p=[0.6, 0.4])
            height = int(rng.integers(30, 46))

        u = rng.random()
        status = "planned" if u < 0.04 else ("down" if u < 0.06 else "on_air")
        u = rng.random()
        if s.is_ward:
            power = "grid"
        else:
            power = "solar" if u < 0.15 else ("none" if u < 0.175 else "grid")
        if power == "none" and status == "on_air":
            status = "down"
        if status == "planned":
            power = "none" if rng.random() < 0.5 else power
        split_power = rng.random() < 0.08  # give tx power + gain, no EIRP

        site_rows.append(
            {
                "site_id": site_id,
                "operator": s.operator,
                "x": s.x,
                "y": s.y,
                "status": status,
                "power_source": power,
                "has_5g": has_5g,
                "is_ward": s.is_ward,
                "hilltop": s.hilltop,
                "shared_mast": s.shared_mast,
            }
        )
        rot = int(rng.integers(0, 120))
        layers = [("4G", int(band), "L")]
        if has_5g:
            layers.append(("5G", {"Viettel": 2600, "VNPT": 3700, "MobiFone": 3800}[s.operator], "N"))
        for tech, mhz, letter in layers:
            sectors = [None] if omni else [(rot + 120 * i) % 360 for i in range(3)]
            for i, az in enumerate(sectors):
                if tech == "4G":
                    tx = 46.0
                    gain = round(float(rng.uniform(11.0, 12.5) if omni else rng.uniform(15.0, 18.0)), 1)
                    loss = 0.5
                else:
                    tx = 53.0
                    gain = round(float(rng.uniform(23.5, 24.5)), 1)
                    loss = 0.0
                rows.append(
                    {
                        "site_id": site_id,
                        "sector_id": f"{site_id}-{letter}{0 if omni else i + 1}",
                        "operator": s.operator,
                        "technology": tech,
                        "band_mhz": mhz,
                        "antenna_height_m": height,
                        "azimuth_deg": az,
                        "tilt_deg": round(float(rng.uniform(2.0, 6.0)) * 2) / 2,
                        "eirp_dbm": np.nan if split_power else round(tx + gain - loss, 1),
                        "tx_power_dbm": tx if split_power else np.nan,
                        "antenna_gain_dbi": gain if split_power else np.nan,
                        "status": status,
                        "power_source": power,
                        "lon": s.lon,
                        "lat": s.lat,
                    }
                )
    return pd.DataFrame(rows), pd.DataFrame(site_rows)


# --------------------------------------------------------------------------
# Outages (SYNTHETIC)
# --------------------------------------------------------------------------


def fake_person(rng: np.random.Generator) -> tuple[str, str]:
    """A fake Vietnamese name and an obviously fake phone number.

    Parameters
    ----------
    rng : numpy.random.Generator

    Returns
    -------
    name, phone : str
        Phones are ``0900 000 NNN`` or ``+84 000 000 NNN`` (the 0900 000
        block is not a real subscriber range used here).
    """
    name = (
        f"{FAMILY_NAMES[rng.integers(len(FAMILY_NAMES))]} "
        f"{MIDDLE_NAMES[rng.integers(len(MIDDLE_NAMES))]} "
        f"{GIVEN_NAMES[rng.integers(len(GIVEN_NAMES))]}"
    )
    n = int(rng.integers(0, 1000))
    phone = f"0900 000 {n:03d}" if rng.random() < 0.7 else f"+84 000 000 {n:03d}"
    return name, phone


def random_time(
    rng: np.random.Generator, start: dt.datetime = REPORT_START, end: dt.datetime = REPORT_END
) -> dt.datetime:
    """A random local time between two datetimes, mostly in waking hours.

    Parameters
    ----------
    rng : numpy.random.Generator
    start, end : datetime.datetime
        Naive local times.

    Returns
    -------
    datetime.datetime
        Aware datetime in UTC+07:00, whole minutes.
    """
    days = (end.date() - start.date()).days
    day = start.date() + dt.timedelta(days=int(rng.integers(0, days + 1)))
    minute = int(np.clip(rng.normal(14.5 * 60, 4 * 60), 5 * 60, 23 * 60 + 30))
    t = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), TZ_VN)
    return min(max(t, start.replace(tzinfo=TZ_VN)), end.replace(tzinfo=TZ_VN))


def make_outages(v: pd.DataFrame, sites: pd.DataFrame, rng: np.random.Generator, to_lonlat) -> pd.DataFrame:
    """Generate crowd-sourced dead-zone reports.

    Reports cluster in a few dozen villages: most are villages with no
    on-air site within 5 km; some are covered villages (a gap the model may
    miss); some are around solar or unpowered sites (``power_cut``, bunched
    in a few days). 85 % of rows give a location jittered up to 300 m from
    the village centre, 15 % give the village id instead. Four rows carry a
    village id that exists nowhere, and ten rows are duplicate submissions.

    Parameters
    ----------
    v : pandas.DataFrame
        Villages with ``x``, ``y``, ``village_id``, ``population``.
    sites : pandas.DataFrame
        Sites with ``x``, ``y``, ``operator``, ``status``, ``power_source``,
        ``has_5g``.
    rng : numpy.random.Generator
    to_lonlat : callable
        ``(x, y) -> (lon, lat)`` transformer from UTM.

    Returns
    -------
    pandas.DataFrame
        Columns of ``outages.csv``, sorted by time.
    """
    xy = v[["x", "y"]].to_numpy()
    on_air = sites[sites.status == "on_air"]
    d_any = pairwise_dist(xy, on_air[["x", "y"]].to_numpy()).min(axis=1)
    d_op = {
        op: pairwise_dist(xy, on_air.loc[on_air.operator == op, ["x", "y"]].to_numpy()).min(axis=1)
        for op in OPERATORS
    }
    s5 = sites[sites.has_5g & (sites.status == "on_air")][["x", "y"]].to_numpy()
    d_5g = pairwise_dist(xy, s5).min(axis=1) if len(s5) else np.full(len(v), np.inf)
    share = np.array([0.45, 0.30, 0.25])

    poor = np.flatnonzero(d_any > 5000)
    good = np.flatnonzero(d_any <= 3000)
    pick_poor = rng.choice(
        poor,
        size=min(22, len(poor)),
        replace=False,
        p=v.population.to_numpy()[poor] / v.population.to_numpy()[poor].sum(),
    )
    pick_good = rng.choice(good, size=7, replace=False)
    weak = sites[sites.power_source.isin(["solar", "none"]) & (sites.status != "planned")]
    weak = weak.iloc[rng.permutation(len(weak))[:6]]

    recs = []

    def add(i: int, op: str, kind: str, when: dt.datetime) -> None:
        tech = "5G" if (d_5g[i] < 2500 and kind != "power_cut" and rng.random() < 0.35) else "4G"
        name, phone = fake_person(rng)
        recs.append(
            {
                "vidx": i,
                "operator": op,
                "technology": tech,
                "kind": kind,
                "when": when,
                "reporter_name": name,
                "reporter_phone": phone,
            }
        )

    for i in sorted(pick_poor):
        for _ in range(int(rng.integers(5, 17))):
            add(
                i,
                OPERATORS[rng.choice(3, p=share)],
                rng.choice(["no_signal", "weak", "no_data"], p=[0.55, 0.3, 0.15]),
                random_time(rng),
            )
    for i in sorted(pick_good):
        # The operator whose nearest on-air site is farthest away.
        op = max(OPERATORS, key=lambda o: d_op[o][i])
        for _ in range(int(rng.integers(3, 9))):
            add(i, op, rng.choice(["weak", "no_data", "no_signal"], p=[0.5, 0.3, 0.2]), random_time(rng))
    for s in weak.itertuples():
        near = np.flatnonzero(np.hypot(*(xy - [s.x, s.y]).T) < 3500)
        if not len(near):
            continue
        start = random_time(rng, REPORT_START, REPORT_END - dt.timedelta(days=6)).replace(tzinfo=None)
        for _ in range(int(rng.integers(4, 11))):
            i = int(rng.choice(near))
            when = random_time(rng, start, start + dt.timedelta(days=int(rng.integers(1, 5))))
            add(i, s.operator, "power_cut" if rng.random() < 0.8 else "no_signal", when)

    df = pd.DataFrame(recs)
    n = len(df)
    by_id = rng.random(n) < 0.15
    ang = rng.uniform(0, 2 * np.pi, n)
    rad = 300.0 * np.sqrt(rng.random(n))
    px = xy[df.vidx, 0] + rad * np.cos(ang)
    py = xy[df.vidx, 1] + rad * np.sin(ang)
    lon, lat = to_lonlat(px, py)
    df["lon"] = np.where(by_id, np.nan, np.round(lon, 6))
    df["lat"] = np.where(by_id, np.nan, np.round(lat, 6))
    df["village_id"] = np.where(by_id, v.village_id.to_numpy()[df.vidx], "")

    # Four rows whose village id matches no village.
    counts = v.groupby("commune_code").size()
    bad_rows = rng.choice(np.flatnonzero(by_id), size=4, replace=False)
    for j, r in enumerate(bad_rows):
        code = v.commune_code.iat[df.vidx.iat[r]]
        df.loc[r, "village_id"] = "99999-01" if j == 0 else f"{code}-{counts[code] + 3 + j:02d}"

    # Ten duplicate submissions: same reporter, place, operator and kind, same
    # day, a few minutes later.
    dup_src = rng.choice(n, size=10, replace=False)
    dups = df.iloc[dup_src].copy()
    dups["when"] = [
        min(w + dt.timedelta(minutes=int(m)), w.replace(hour=23, minute=59))
        for w, m in zip(dups["when"], rng.integers(1, 30, 10), strict=False)
    ]
    df = pd.concat([df, dups], ignore_index=True)

    df = df.sort_values(["when", "reporter_name"], kind="stable").reset_index(drop=True)
    df["report_id"] = [f"R2026-{k + 1:04d}" for k in range(len(df))]
    df["reported_at"] = [w.isoformat() for w in df["when"]]
    return df[
        [
            "report_id",
            "reported_at",
            "lon",
            "lat",
            "village_id",
            "operator",
            "technology",
            "kind",
            "reporter_name",
            "reporter_phone",
        ]
    ]


# --------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------


def write_csv(df: pd.DataFrame, path: Path, decimals: dict[str, int]) -> None:
    """Write a CSV with fixed float formatting and empty cells for NaN.

    Parameters
    ----------
    df : pandas.DataFrame
    path : pathlib.Path
    decimals : dict
        Column -> number of decimals for float columns.
    """
    out = df.copy()
    for col, nd in decimals.items():
        out[col] = [fmt(float(x), nd) if pd.notna(x) else "" for x in out[col]]
    out.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def build(shared: Path, out: Path, seed: int) -> dict:
    """Build every demo file.

    Parameters
    ----------
    shared : pathlib.Path
        The ``shared`` folder with ``data/real/``.
    out : pathlib.Path
        Output folder (``data/demo``).
    seed : int
        Seed of the random generator.

    Returns
    -------
    dict
        Summary numbers.
    """
    real = shared / "data/real"
    out.mkdir(parents=True, exist_ok=True)
    (out / "dem").mkdir(exist_ok=True)
    rng_villages, rng_attrs, rng_sites, rng_sectors, rng_outages = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)
    )

    # 1. DEM (REAL): copied unmodified.
    hgt_src = real / "vvnb-srtm3-n21e105" / f"{TILE}.hgt"
    shutil.copyfile(hgt_src, out / "dem" / f"{TILE}.hgt")
    dem = Dem(hgt_src)

    # 2. Communes (REAL) with carried census population.
    communes = load_communes(shared)
    pop, stats = carry_population(shared, communes["commune_code"].tolist())
    communes["population"] = communes["commune_code"].map(pop).astype("int64")
    communes = communes[
        [
            "commune_code",
            "name",
            "full_name",
            "name_en",
            "province",
            "province_code",
            "population",
            "area_km2",
            "geometry",
        ]
    ]
    path = out / "communes.geojson"
    path.unlink(missing_ok=True)
    communes.to_file(
        path,
        driver="GeoJSON",
        engine="pyogrio",
        layer_options={"COORDINATE_PRECISION": "6", "WRITE_NAME": "NO"},
    )

    # 3. Villages (SYNTHETIC).
    cm = communes.to_crs(CRS_METRIC)
    cm["is_ward"] = cm["full_name"].str.startswith("Phường")
    v = place_villages(cm, dem, rng_villages)
    v = village_attributes(v, cm, dem, rng_attrs)
    vg = gpd.GeoDataFrame(v, geometry=gpd.points_from_xy(v.x, v.y), crs=CRS_METRIC)
    vn = vg.to_crs(CRS_VN2000)
    vn = vn.set_geometry(gpd.points_from_xy(vn.geometry.x.round(2), vn.geometry.y.round(2)), crs=CRS_VN2000)
    cols = [
        "village_id",
        "name",
        "commune_code",
        "commune_name",
        "province",
        "population",
        "households",
        "has_grid_power",
        "extremely_difficult",
        "schools",
        "health_stations",
    ]
    path = out / "villages.gpkg"
    path.unlink(missing_ok=True)
    vn[[*cols, "geometry"]].to_file(path, layer="villages", driver="GPKG", engine="pyogrio")
    ll = vg.to_crs(CRS_WGS84).geometry
    if dem.raw_void_near(ll.x.to_numpy(), ll.y.to_numpy()).any():
        raise RuntimeError("a village lies next to a DEM void")

    # 4. Towers (SYNTHETIC).
    tr = Transformer.from_crs(CRS_METRIC, CRS_WGS84, always_xy=True)
    sites = plan_sites(v, dem, rng_sites)
    lon, lat = tr.transform(sites.x.to_numpy(), sites.y.to_numpy())
    sites["lon"], sites["lat"] = np.round(lon, 6), np.round(lat, 6)
    towers, site_tab = site_sectors(sites, v, rng_sectors)
    write_csv(
        towers,
        out / "towers.csv",
        {
            "azimuth_deg": 0,
            "tilt_deg": 1,
            "eirp_dbm": 1,
            "tx_power_dbm": 1,
            "antenna_gain_dbi": 1,
            "lon": 6,
            "lat": 6,
        },
    )

    # 5. Outages (SYNTHETIC).
    outages = make_outages(v, site_tab, rng_outages, tr.transform)
    write_csv(outages, out / "outages.csv", {"lon": 6, "lat": 6})

    stats.update(
        {
            "communes": len(communes),
            "villages": len(v),
            "sites": len(site_tab),
            "sector_rows": len(towers),
            "outages": len(outages),
            "gap_villages": len(sites.attrs["gap_villages"]),
        }
    )
    return stats


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    repo = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--shared",
        type=Path,
        default=repo.parent / "shared",
        help="folder holding data/real/ (default: <repo>/../shared)",
    )
    ap.add_argument(
        "--out", type=Path, default=repo / "data" / "demo", help="output folder (default: <repo>/data/demo)"
    )
    ap.add_argument("--seed", type=int, default=20260701, help="random seed")
    args = ap.parse_args(argv)
    stats = build(args.shared, args.out, args.seed)
    for k, val in stats.items():
        print(f"{k}: {val:.3f}" if isinstance(val, float) else f"{k}: {val}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
