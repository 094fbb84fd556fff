"""The project file: one TOML file naming the inputs and every parameter.

It loads into frozen, validated dataclasses. Paths are relative to the project file.
An unknown key is an error that suggests the closest valid key; all problems of the
file are reported together in one :class:`~coverage._errors.ConfigError`.

Example::

    [project]
    name = "Thái Nguyên demo"
    working_crs = "EPSG:32648"          # optional: UTM 48N/49N is chosen automatically

    [inputs]
    villages = { path = "villages.gpkg", layer = "villages" }
    communes = "communes.geojson"
    towers = { path = "towers.csv" }
    outages = "outages.csv"
    dem = "dem/N21E105.hgt"

    [radio]
    resolution_m = 30

    [thresholds.4G]
    good_dbm = -100
    weak_dbm = -115
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coverage._errors import ConfigError
from coverage._validate import closest
from coverage.params import (
    CostParams,
    EvidenceParams,
    GapParams,
    PriorityWeights,
    RadioParams,
    SignalThresholds,
    Thresholds,
    TowerDefaults,
)
from coverage.propagation.itm import ItmParams

__all__ = ["LAYERS", "LayerSource", "Project", "load_project"]

#: Input layers: name -> required?
LAYERS: dict[str, bool] = {
    "villages": True,
    "communes": False,
    "towers": True,
    "outages": False,
    "dem": True,
    "population": False,
}
_LAYER_KEYS = ("path", "layer", "crs", "x_column", "y_column", "columns", "format", "mnc_operators")


@dataclass(frozen=True)
class LayerSource:
    """Where one input layer comes from and how to read it.

    Parameters
    ----------
    path
        Absolute path (resolved against the project file's folder).
    layer
        Layer inside a multi-layer file (GeoPackage).
    crs
        CRS of a table's x/y columns, or of a file that lacks one.
    x_column, y_column
        Coordinate columns of a table when they are not lon/lat or x/y.
    columns
        Schema column -> the file's column.
    format
        ``"auto"`` or ``"opencellid"`` (towers only).
    mnc_operators
        Extra OpenCelliD network code -> operator mappings (towers only).
    """

    path: Path
    layer: str | None = None
    crs: str | None = None
    x_column: str | None = None
    y_column: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    format: str = "auto"
    mnc_operators: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Project:
    """A loaded project file."""

    path: Path
    name: str
    working_crs: str | None
    inputs: Mapping[str, LayerSource]
    radio: RadioParams = field(default_factory=RadioParams)
    itm: ItmParams = field(default_factory=ItmParams)
    thresholds: Thresholds = field(default_factory=Thresholds)
    tower_defaults: TowerDefaults = field(default_factory=TowerDefaults)
    gaps: GapParams = field(default_factory=GapParams)
    evidence: EvidenceParams = field(default_factory=EvidenceParams)
    priority: PriorityWeights = field(default_factory=PriorityWeights)
    costs: CostParams = field(default_factory=CostParams)

    @property
    def root(self) -> Path:
        """Folder of the project file."""
        return self.path.parent


_SECTIONS = (
    "project",
    "inputs",
    "radio",
    "thresholds",
    "tower_defaults",
    "gaps",
    "evidence",
    "priority",
    "costs",
)


def _unknown(keys: Any, valid: tuple[str, ...] | list[str], where: str, errors: list[str]) -> None:
    for key in keys:
        if key not in valid:
            guess = closest(str(key), valid)
            hint = f" Did you mean '{guess}'?" if guess else f" Valid keys: {sorted(valid)}"
            errors.append(f"unknown key '{key}' in [{where}].{hint}")


def _dataclass_from(cls: type, table: Any, where: str, errors: list[str], fallback: Any = None) -> Any:
    fallback = cls() if fallback is None else fallback
    if not isinstance(table, dict):
        errors.append(f"[{where}] must be a table, got {table!r}")
        return fallback
    names = [f.name for f in dataclasses.fields(cls)]
    _unknown(table, names, where, errors)
    kwargs = {k: v for k, v in table.items() if k in names}
    for f in dataclasses.fields(cls):
        if f.name in kwargs and isinstance(kwargs[f.name], list):
            kwargs[f.name] = tuple(kwargs[f.name])
        if f.name in kwargs and isinstance(kwargs[f.name], int) and not isinstance(kwargs[f.name], bool):
            default = f.default if f.default is not dataclasses.MISSING else None
            if isinstance(default, float):
                kwargs[f.name] = float(kwargs[f.name])
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        errors.append(f"[{where}] {exc}")
    except TypeError as exc:
        errors.append(f"[{where}] {exc}")
    return fallback


def _layer(name: str, value: Any, root: Path, errors: list[str]) -> LayerSource | None:
    if isinstance(value, str):
        value = {"path": value}
    if not isinstance(value, dict):
        errors.append(f"[inputs] {name} must be a path or a table with 'path', got {value!r}")
        return None
    _unknown(value, _LAYER_KEYS, f"inputs.{name}", errors)
    if "path" not in value or not isinstance(value["path"], str):
        errors.append(f'[inputs.{name}] needs path = "..." (relative to the project file)')
        return None
    if value.get("format", "auto") not in ("auto", "opencellid"):
        errors.append(f"[inputs.{name}] format must be 'auto' or 'opencellid', got {value['format']!r}")
    if "format" in value and name != "towers":
        errors.append(f"[inputs.{name}] format applies to towers only")
    columns = value.get("columns", {})
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        errors.append(f"[inputs.{name}] columns must map schema names to column names, got {columns!r}")
        columns = {}
    mnc = value.get("mnc_operators", {})
    try:
        mnc = {int(k): str(v) for k, v in dict(mnc).items()}
    except (TypeError, ValueError):
        errors.append(f"[inputs.{name}] mnc_operators must map network codes to operators, got {mnc!r}")
        mnc = {}
    path = Path(value["path"])
    return LayerSource(
        path=(root / path).resolve() if not path.is_absolute() else path,
        layer=value.get("layer"),
        crs=value.get("crs"),
        x_column=value.get("x_column"),
        y_column=value.get("y_column"),
        columns=columns,
        format=value.get("format", "auto"),
        mnc_operators=mnc,
    )


def load_project(path: str | Path) -> Project:
    """Load and validate a project file.

    Parameters
    ----------
    path
        The ``project.toml`` file.

    Returns
    -------
    Project
        Frozen parameters with input paths resolved against the file's folder.

    Raises
    ------
    ConfigError
        Listing every problem: a missing file, TOML syntax, unknown keys (with the
        closest valid key), missing inputs and out-of-range values.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError(f"project file not found: {path}. Create one (see README 'The project file').")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    errors: list[str] = []
    _unknown(doc, list(_SECTIONS), "top level", errors)
    meta = doc.get("project", {})
    _unknown(meta, ["name", "working_crs"], "project", errors)
    inputs_doc = doc.get("inputs", {})
    _unknown(inputs_doc, list(LAYERS), "inputs", errors)
    inputs: dict[str, LayerSource] = {}
    for name, required in LAYERS.items():
        if name in inputs_doc:
            src = _layer(name, inputs_doc[name], path.parent, errors)
            if src is not None:
                inputs[name] = src
        elif required:
            errors.append(f'[inputs] {name} is required: add {name} = "path/to/file"')
    radio_doc = dict(doc.get("radio", {})) if isinstance(doc.get("radio", {}), dict) else doc.get("radio")
    itm_doc = radio_doc.pop("itm", {}) if isinstance(radio_doc, dict) else {}
    radio = _dataclass_from(RadioParams, radio_doc, "radio", errors)
    itm = _dataclass_from(ItmParams, itm_doc, "radio.itm", errors)
    th_doc = doc.get("thresholds", {})
    _unknown(th_doc, ["4G", "5G"], "thresholds", errors)
    defaults = Thresholds()
    lte, nr = (
        _dataclass_from(
            SignalThresholds,
            {**dataclasses.asdict(default), **th_doc.get(tech, {})}
            if isinstance(th_doc.get(tech, {}), dict)
            else th_doc[tech],
            f"thresholds.{tech}",
            errors,
            fallback=default,
        )
        for tech, default in (("4G", defaults.lte), ("5G", defaults.nr))
    )
    pr_doc = doc.get("priority", {})
    _unknown(pr_doc, ["weights"], "priority", errors)
    weights = _dataclass_from(PriorityWeights, pr_doc.get("weights", {}), "priority.weights", errors)
    tower_defaults = _dataclass_from(TowerDefaults, doc.get("tower_defaults", {}), "tower_defaults", errors)
    gaps = _dataclass_from(GapParams, doc.get("gaps", {}), "gaps", errors)
    evidence = _dataclass_from(EvidenceParams, doc.get("evidence", {}), "evidence", errors)
    costs = _dataclass_from(CostParams, doc.get("costs", {}), "costs", errors)
    if errors:
        listing = "\n".join(f"  - {e}" for e in errors)
        raise ConfigError(f"{path}: {len(errors)} problem(s) in the project file:\n{listing}")
    return Project(
        path=path,
        name=str(meta.get("name", path.parent.name)),
        working_crs=meta.get("working_crs"),
        inputs=inputs,
        radio=radio,
        itm=itm,
        thresholds=Thresholds(lte=lte, nr=nr),
        tower_defaults=tower_defaults,
        gaps=gaps,
        evidence=evidence,
        priority=weights,
        costs=costs,
    )
