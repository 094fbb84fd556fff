r"""Choose new sites: maximum coverage of villages under a site count or a VND budget.

Model
-----
Candidates :math:`j` (new masts, or 5G upgrades of existing masts) with cost
:math:`c_j`, villages :math:`i` with weight :math:`w_i` (population, optionally times the
priority score), and :math:`N_i` the candidates that newly cover village :math:`i`
(existing sites are fixed: a village they already cover is never counted). Choose
:math:`x_j \in \{0, 1\}`:

.. math::

    \max \sum_i w_i y_i \quad \text{s.t.} \quad y_i \le \sum_{j \in N_i} x_j,\;
    0 \le y_i \le 1,\; \sum_j x_j \le K \;\text{and/or}\; \sum_j c_j x_j \le B

(the maximal covering location problem of Church and ReVelle, 1974, with a budget). At an
optimum :math:`y_i` is 0 or 1, so only :math:`x` is declared integer.

Solvers (injected, spopt-style)
-------------------------------
* :class:`ExactSolver`: the MILP above with HiGHS (``highspy``), in memory; proven
  optimal unless its time limit is hit (then ``optimal`` is false and ``bound`` is the
  best upper bound). Default up to :data:`EXACT_MAX_CANDIDATES` candidates and
  :data:`EXACT_MAX_VILLAGES` coverable villages.
* :class:`GreedySolver`: repeatedly adds the candidate with the best marginal gain (per
  VND under a budget), with lazy evaluation (CELF, Leskovec et al. 2007): marginal gains
  only shrink, so a stale gain is an upper bound and most candidates are never
  re-evaluated. Ties go to the lower candidate index, so lazy and plain greedy choose
  the same sites. Guarantee: :math:`1 - 1/e` of the optimum for a site count; under a
  budget the better of gain-per-cost greedy and the best single affordable site, which
  guarantees :math:`(1 - 1/e)/2`.

The array core is :class:`CoverageProblem` (``from_arrays`` / ``from_lists``); the
GeoDataFrame adapter :func:`site_problem` builds it from candidate and village layers
with the radio engine (:mod:`coverage._optimize_matrix`).
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from coverage._optimize_matrix import (
    SiteProblem,
    candidates_at_villages,
    candidates_from_dem,
    candidates_from_points,
    site_problem,
    upgrade_candidates,
)

__all__ = [
    "EXACT_MAX_CANDIDATES",
    "EXACT_MAX_VILLAGES",
    "BruteForceSolver",
    "CoverageProblem",
    "ExactSolver",
    "GreedySolver",
    "Selection",
    "SiteProblem",
    "Solver",
    "candidates_at_villages",
    "candidates_from_dem",
    "candidates_from_points",
    "select_sites",
    "site_problem",
    "upgrade_candidates",
]

#: Sizes up to which :func:`select_sites` uses the exact MILP by default.
EXACT_MAX_CANDIDATES = 500
EXACT_MAX_VILLAGES = 5000


@dataclass(frozen=True, eq=False)
class CoverageProblem:
    """The array core: which candidates newly cover which villages, weights and costs.

    Parameters
    ----------
    indptr, indices
        Compressed rows: candidate ``j`` covers villages ``indices[indptr[j]:indptr[j+1]]``.
    weights
        Weight of each village (people, or people x priority score); >= 0.
    costs_vnd
        Cost of each candidate, VND; >= 0.

    Examples
    --------
    >>> p = CoverageProblem.from_arrays([[1, 1, 0], [0, 1, 1]], [10, 5, 20], [1.0, 2.0])
    >>> p.n_candidates, p.n_villages, p.covered_weight([0, 1])
    (2, 3, 35.0)
    """

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    costs_vnd: np.ndarray

    def __post_init__(self) -> None:
        if len(self.indptr) != len(self.costs_vnd) + 1:
            raise ValueError(
                f"indptr has {len(self.indptr)} entries for {len(self.costs_vnd)} candidates; expected n + 1"
            )
        if len(self.indices) and (self.indices.min() < 0 or self.indices.max() >= len(self.weights)):
            raise ValueError("a village index is outside 0..n_villages-1")
        if (self.weights < 0).any() or np.isnan(self.weights).any():
            raise ValueError("village weights must be >= 0 and not NaN")
        if (self.costs_vnd < 0).any() or np.isnan(self.costs_vnd).any():
            raise ValueError("candidate costs must be >= 0 and not NaN")

    @classmethod
    def from_lists(
        cls,
        covers: Sequence[Sequence[int]],
        weights: Sequence[float],
        costs_vnd: Sequence[float] | None = None,
    ) -> CoverageProblem:
        """Build from one list of covered village indices per candidate (cost 1 each by default)."""
        lists = [np.unique(np.asarray(c, dtype=np.int64)) for c in covers]
        indptr = np.zeros(len(lists) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(c) for c in lists])
        indices = np.concatenate(lists) if lists else np.zeros(0, dtype=np.int64)
        costs = np.ones(len(lists)) if costs_vnd is None else np.asarray(costs_vnd, dtype=float)
        return cls(indptr, indices.astype(np.int64), np.asarray(weights, dtype=float), costs)

    @classmethod
    def from_arrays(
        cls, covers: np.ndarray | Sequence, weights: Sequence[float], costs_vnd: Sequence[float] | None = None
    ) -> CoverageProblem:
        """Build from a dense boolean matrix ``covers[candidate, village]``."""
        a = np.asarray(covers, dtype=bool)
        if a.ndim != 2:
            raise ValueError(f"covers must be a 2-D candidates x villages matrix, got shape {a.shape}")
        return cls.from_lists([np.flatnonzero(row) for row in a], weights, costs_vnd)

    @property
    def n_candidates(self) -> int:
        """Number of candidates."""
        return len(self.costs_vnd)

    @property
    def n_villages(self) -> int:
        """Number of villages."""
        return len(self.weights)

    def covers(self, j: int) -> np.ndarray:
        """Villages newly covered by candidate ``j``."""
        return self.indices[self.indptr[j] : self.indptr[j + 1]]

    def covered_weight(self, chosen: Sequence[int]) -> float:
        """Total weight of the villages covered by the ``chosen`` candidates."""
        if len(chosen) == 0:
            return 0.0
        hit = np.unique(np.concatenate([self.covers(int(j)) for j in chosen]))
        return float(self.weights[hit].sum())

    def in_order(self, chosen: Sequence[int]) -> tuple[tuple[int, ...], tuple[float, ...]]:
        """Order ``chosen`` by greedy marginal gain (ties: lower index) and return the gains."""
        left = sorted(int(j) for j in chosen)
        covered = np.zeros(self.n_villages, dtype=bool)
        order, gains = [], []
        while left:
            g = [self._gain(j, covered) for j in left]
            k = int(np.argmax(g))
            j = left.pop(k)
            order.append(j)
            gains.append(g[k])
            covered[self.covers(j)] = True
        return tuple(order), tuple(gains)

    def _gain(self, j: int, covered: np.ndarray) -> float:
        v = self.covers(j)
        return float(self.weights[v[~covered[v]]].sum())


@dataclass(frozen=True)
class Selection:
    """Sites chosen by a solver.

    Parameters
    ----------
    chosen
        Candidate indices in selection order (greedy order by marginal gain for exact).
    gains
        Marginal covered weight of each, in that order.
    objective
        Total covered weight.
    cost_vnd
        Total cost.
    solver
        Solver name.
    optimal
        Proven optimal (exact solvers that finished).
    bound
        Upper bound on the optimum, when the solver gives one.
    seconds
        Solve time.
    """

    chosen: tuple[int, ...]
    gains: tuple[float, ...]
    objective: float
    cost_vnd: float
    solver: str
    optimal: bool
    bound: float | None
    seconds: float


class Solver(Protocol):
    """What :func:`select_sites` needs from a solver."""

    name: str

    def solve(
        self, problem: CoverageProblem, *, max_sites: int | None = None, budget_vnd: float | None = None
    ) -> Selection:
        """Choose sites."""
        ...


def _check_limits(max_sites: int | None, budget_vnd: float | None) -> None:
    if max_sites is None and budget_vnd is None:
        raise ValueError("give max_sites, budget_vnd or both")
    if max_sites is not None and (
        isinstance(max_sites, bool) or int(max_sites) != max_sites or max_sites < 0
    ):
        raise ValueError(f"max_sites must be a whole number >= 0, got {max_sites!r}")
    if budget_vnd is not None and not (budget_vnd >= 0 and math.isfinite(budget_vnd)):
        raise ValueError(f"budget_vnd must be a finite number >= 0, got {budget_vnd!r}")


def _selection(
    problem: CoverageProblem, chosen: Sequence[int], name: str, optimal: bool, bound: float | None, t0: float
) -> Selection:
    order, gains = problem.in_order(chosen)
    return Selection(
        chosen=order,
        gains=gains,
        objective=problem.covered_weight(order),
        cost_vnd=float(problem.costs_vnd[list(order)].sum()) if order else 0.0,
        solver=name,
        optimal=optimal,
        bound=bound,
        seconds=time.perf_counter() - t0,
    )


@dataclass(frozen=True)
class GreedySolver:
    """Greedy maximum coverage; ``lazy=True`` uses CELF lazy evaluation (same result, faster).

    Examples
    --------
    >>> p = CoverageProblem.from_arrays([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]], [1, 1, 1, 1])
    >>> GreedySolver().solve(p, max_sites=2).chosen
    (0, 2)
    """

    lazy: bool = True
    name: str = "greedy"

    def solve(
        self, problem: CoverageProblem, *, max_sites: int | None = None, budget_vnd: float | None = None
    ) -> Selection:
        """Choose sites greedily (see the module docstring)."""
        _check_limits(max_sites, budget_vnd)
        t0 = time.perf_counter()
        ratio = budget_vnd is not None
        chosen = self._greedy(problem, max_sites, budget_vnd, ratio)
        if ratio:  # the better of gain-per-cost greedy and the best single affordable site
            budget = float(budget_vnd)  # type: ignore[arg-type]
            single = [
                j
                for j in range(problem.n_candidates)
                if problem.costs_vnd[j] <= budget and (max_sites or 1) >= 1
            ]
            if single:
                best = max(single, key=lambda j: (problem.covered_weight([j]), -j))
                if problem.covered_weight([best]) > problem.covered_weight(chosen):
                    chosen = [best]
        name = f"{self.name} (lazy)" if self.lazy else self.name
        return _selection(problem, chosen, name, False, None, t0)

    def _greedy(
        self, p: CoverageProblem, max_sites: int | None, budget: float | None, ratio: bool
    ) -> list[int]:
        k_max = p.n_candidates if max_sites is None else int(max_sites)
        left = math.inf if budget is None else float(budget)
        covered = np.zeros(p.n_villages, dtype=bool)
        chosen: list[int] = []

        def score(j: int) -> float:
            g = p._gain(j, covered)
            if ratio:
                c = float(p.costs_vnd[j])
                return g / c if c > 0 else (math.inf if g > 0 else 0.0)
            return g

        if not self.lazy:
            alive = set(range(p.n_candidates))
            while len(chosen) < k_max:
                alive = {j for j in alive if p.costs_vnd[j] <= left}
                if not alive:
                    break
                best = max(sorted(alive), key=lambda j: (score(j), -j))
                if score(best) <= 0:
                    break
                chosen.append(best)
                alive.discard(best)
                left -= float(p.costs_vnd[best])
                covered[p.covers(best)] = True
            return chosen
        # CELF: heap of (-stale score, index, round evaluated)
        heap = [(-score(j), j, 0) for j in range(p.n_candidates) if p.costs_vnd[j] <= left]
        heapq.heapify(heap)
        rnd = 0
        while heap and len(chosen) < k_max:
            neg, j, when = heapq.heappop(heap)
            if p.costs_vnd[j] > left:
                continue  # the budget only shrinks
            if when != rnd:
                heapq.heappush(heap, (-score(j), j, rnd))
                continue
            if -neg <= 0:
                break
            chosen.append(j)
            left -= float(p.costs_vnd[j])
            covered[p.covers(j)] = True
            rnd += 1
        return chosen


@dataclass(frozen=True)
class ExactSolver:
    """The MILP of the module docstring, solved by HiGHS (``highspy``).

    Parameters
    ----------
    time_limit_s
        Stop after this time with the best solution found (``optimal`` false).
    mip_rel_gap
        Relative optimality gap accepted (0 = prove optimality).
    threads
        HiGHS threads (1 keeps runs reproducible).

    Examples
    --------
    >>> p = CoverageProblem.from_arrays([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]], [1, 1, 1, 1])
    >>> s = ExactSolver().solve(p, max_sites=2)
    >>> s.chosen, s.objective, s.optimal
    ((0, 2), 4.0, True)
    """

    time_limit_s: float = 120.0
    mip_rel_gap: float = 0.0
    threads: int = 1
    name: str = "exact (HiGHS MILP)"

    def solve(
        self, problem: CoverageProblem, *, max_sites: int | None = None, budget_vnd: float | None = None
    ) -> Selection:
        """Solve the MILP (see the module docstring)."""
        _check_limits(max_sites, budget_vnd)
        try:
            import highspy
        except ImportError:  # pragma: no cover - a declared dependency
            raise ImportError(
                "the exact site optimiser needs HiGHS: pip install highspy (or pass solver=GreedySolver())"
            ) from None
        t0 = time.perf_counter()
        p = problem
        n, m = p.n_candidates, p.n_villages
        cand = np.repeat(np.arange(n), np.diff(p.indptr))
        # only villages some candidate covers, with a positive weight, become variables
        useful = np.zeros(m, dtype=bool)
        useful[p.indices] = True
        useful &= p.weights > 0
        vill = np.flatnonzero(useful)
        if len(vill) == 0 or n == 0:
            return _selection(p, [], self.name, True, 0.0, t0)
        pos = np.full(m, -1, dtype=np.int64)
        pos[vill] = np.arange(len(vill))
        keep = useful[p.indices]
        rows_v = pos[p.indices[keep]]
        cols_c = cand[keep]
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(self.time_limit_s))
        h.setOptionValue("mip_rel_gap", float(self.mip_rel_gap))
        h.setOptionValue("threads", int(self.threads))
        inf = highspy.kHighsInf
        # columns: x_0..x_{n-1} (binary), then y for each useful village (continuous in [0, 1])
        n_y = len(vill)
        cost = np.concatenate([np.zeros(n), p.weights[vill]])
        h.addVars(n + n_y, np.zeros(n + n_y), np.ones(n + n_y))
        h.changeColsCost(n + n_y, np.arange(n + n_y, dtype=np.int32), cost)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h.changeColsIntegrality(
            n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger, dtype=np.uint8)
        )
        # rows: y_i - sum_{j in N_i} x_j <= 0, built village by village
        order = np.lexsort((cols_c, rows_v))
        rv, cc = rows_v[order], cols_c[order]
        starts_v = np.searchsorted(rv, np.arange(n_y))
        idx_parts, val_parts, starts = [], [], []
        nnz = 0
        ends = np.append(starts_v[1:], len(rv))
        for i in range(n_y):
            cs = cc[starts_v[i] : ends[i]]
            starts.append(nnz)
            idx_parts.append(np.concatenate([[n + i], cs]))
            val_parts.append(np.concatenate([[1.0], -np.ones(len(cs))]))
            nnz += len(cs) + 1
        h.addRows(
            n_y,
            np.full(n_y, -inf),
            np.zeros(n_y),
            nnz,
            np.asarray(starts, dtype=np.int32),
            np.concatenate(idx_parts).astype(np.int32),
            np.concatenate(val_parts),
        )
        all_x = np.arange(n, dtype=np.int32)
        if max_sites is not None:
            h.addRow(-inf, float(max_sites), n, all_x, np.ones(n))
        if budget_vnd is not None:
            h.addRow(-inf, float(budget_vnd), n, all_x, p.costs_vnd.astype(float))
        h.run()
        status = h.getModelStatus()
        sol = np.asarray(h.getSolution().col_value)
        chosen = [j for j in range(n) if sol.size and sol[j] > 0.5]
        # a chosen site that covers nothing new is dropped (it costs without gain)
        chosen = [j for j in chosen if p._gain(j, np.zeros(m, dtype=bool)) > 0]
        info = h.getInfo()
        optimal = status == highspy.HighsModelStatus.kOptimal
        bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else None
        return _selection(p, chosen, self.name, optimal, bound, t0)


@dataclass(frozen=True)
class BruteForceSolver:
    """Try every subset (tests and tiny instances only: 2^n candidates).

    Examples
    --------
    >>> p = CoverageProblem.from_arrays([[1, 1, 0], [0, 1, 1]], [10, 5, 20], [3.0, 2.0])
    >>> BruteForceSolver().solve(p, budget_vnd=2.0).chosen
    (1,)
    """

    max_candidates: int = 20
    name: str = "brute force"

    def solve(
        self, problem: CoverageProblem, *, max_sites: int | None = None, budget_vnd: float | None = None
    ) -> Selection:
        """Enumerate subsets; ties go to the lexicographically smallest subset."""
        _check_limits(max_sites, budget_vnd)
        n = problem.n_candidates
        if n > self.max_candidates:
            raise ValueError(f"brute force is limited to {self.max_candidates} candidates, got {n}")
        t0 = time.perf_counter()
        best: tuple[float, tuple[int, ...]] = (0.0, ())
        k_max = n if max_sites is None else min(n, int(max_sites))
        for k in range(1, k_max + 1):
            for sub in itertools.combinations(range(n), k):
                if budget_vnd is not None and problem.costs_vnd[list(sub)].sum() > budget_vnd:
                    continue
                w = problem.covered_weight(sub)
                if w > best[0] + 1e-9:
                    best = (w, sub)
        return _selection(problem, best[1], self.name, True, best[0], t0)


def select_sites(
    problem: CoverageProblem,
    *,
    max_sites: int | None = None,
    budget_vnd: float | None = None,
    solver: Solver | None = None,
) -> Selection:
    """Choose up to ``max_sites`` candidates and/or as many as ``budget_vnd`` allows.

    Parameters
    ----------
    problem
        The coverage problem (array core).
    max_sites
        At most this many sites.
    budget_vnd
        Total cost at most this, VND.
    solver
        Default: :class:`ExactSolver` up to :data:`EXACT_MAX_CANDIDATES` candidates and
        :data:`EXACT_MAX_VILLAGES` coverable villages, else :class:`GreedySolver`.

    Examples
    --------
    >>> p = CoverageProblem.from_arrays([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]], [1, 2, 1, 5])
    >>> select_sites(p, max_sites=1).chosen
    (2,)
    >>> select_sites(CoverageProblem.from_lists([], []), max_sites=3).chosen
    ()
    """
    if solver is None:
        coverable = int(np.unique(problem.indices).size)
        small = problem.n_candidates <= EXACT_MAX_CANDIDATES and coverable <= EXACT_MAX_VILLAGES
        solver = ExactSolver() if small else GreedySolver()
    return solver.solve(problem, max_sites=max_sites, budget_vnd=budget_vnd)
