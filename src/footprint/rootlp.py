"""The LP relaxation of a place's model as a restricted master: near columns first, the rest priced in.

With every LSOA a candidate centre the LP has n^2 assignment columns x[i,c] and as many ``open`` and ``touch``
rows (:mod:`footprint.model`), yet at its optimum a unit is served only by centres near it. :class:`RestrictedLP`
loads into one highspy model:

- columns: every variable that is not an x, each unit's ``near`` nearest allowed centres, every root pair
  (y[c] = x[r(c), c]) and the pairs of a ``start`` plan;
- rows: every row but the ``relaxed`` families (below), restricted to the loaded columns, except the rows that
  belong to one x pair (``open_i_c``, and ``touch_i_c`` when not relaxed), which are loaded with their pair.

After a solve, :meth:`RestrictedLP.price` prices every column left out against the row duals pi (pi = 0 on rows
not loaded): reduced cost r_j = c_j - A_j^T pi, from one sparse product over the catalogue of all rows. Columns
with r_j < 0 would enter; :meth:`RestrictedLP.add_columns` adds them with their rows. The LP over the loaded
columns is optimal for the full LP when none prices in; before that, and always,

    L = z + sum over left-out columns of min(0, r_j)        (x_j <= 1)

is a valid lower bound on the full LP (Lagrangian bound of the duals pi: every left-out column can lower the
objective by at most |r_j| per unit), hence on every plan. With reduced costs of all columns and L, a plan using
pair j costs at least L + max(r_j, 0) when x_j is at 0: the reduced-cost fixing of :func:`footprint.solve.
strengthen_root`.

The rows left out with their pair (x[i,c] <= y[c]) only constrain x[i,c] itself, so with x[i,c] = 0 every
left-out row holds: a solution of the restricted LP, extended by zeros, is a solution of the full LP, and the PCN
cuts separated from it are the full model's cuts. Measured on Ealing (196 LSOAs, 38,416 x columns): the first LP
with 40 near centres per unit took 8.2 s against 20-25 s for the full LP, and each PCN-cut round 2-3.5 s against
12-15 s (BENCHMARKS.md).

The families in ``relaxed`` (by default the ``touch`` rows, x[i,c] <= sum of i's neighbours' x[., c]) are left
out of the LP altogether: it is then the relaxation of a model without them, so its bounds, duals and reduced
costs are still valid for every plan (the MIP that follows keeps the rows). They are as many as the x columns
and nearly double the LP's rows, yet barely move its value: on Barnet (211 LSOAs) the first LP is 0.94777 with
them and 0.94766 without, while each round costs a third less (first LP 9.7 s -> 6.3 s), so 45 s of root loop
reach a bound of 1.120 (11 LPs) instead of 1.051 (7 LPs).
"""

from __future__ import annotations

import numpy as np
import pulp
from scipy import sparse

from footprint.model import PlaceModel

#: Nearest allowed centres per unit loaded before pricing (Ealing: 40 gives 7,840 of 38,416 x columns).
NEAR_CENTRES = 40
#: Reduced cost below which a left-out column prices in.
PRICE_TOLERANCE = 1e-9
#: Families of rows that belong to one x pair and are loaded with it.
OWNED_FAMILIES = ("open", "touch")
#: Families of rows left out of the LP altogether (a relaxation: see the module docstring).
RELAXED_FAMILIES = ("touch",)


def column_arrays(lp: pulp.LpProblem) -> tuple[list[pulp.LpVariable], np.ndarray, np.ndarray, np.ndarray]:
    """``lp``'s variables in column order (each ``var.index`` set), their lower and upper bounds (HiGHS's
    infinity where unbounded) and objective costs: what both highspy loaders start from."""
    import highspy

    inf = highspy.kHighsInf
    variables = lp.variables()
    for index, var in enumerate(variables):
        var.index = index
    lower = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], dtype=float)
    upper = np.array([inf if v.upBound is None else v.upBound for v in variables], dtype=float)
    cost = np.zeros(len(variables))
    for var, coefficient in lp.objective.items():
        cost[var.index] = coefficient
    return variables, lower, upper, cost


class RestrictedLP:
    """The model's LP relaxation over a growing set of columns (see the module docstring).

    Catalogue indices: column j is ``variables[j]`` (``var.index == j``); row r is ``names[r]``. Loaded
    columns and rows have a position in the highspy model (``col_pos``, ``row_pos``; -1 when not loaded).
    """

    def __init__(
        self,
        h: object,
        model: PlaceModel,
        *,
        near: int | None,
        start: np.ndarray | None = None,
        relaxed: tuple[str, ...] = RELAXED_FAMILIES,
    ) -> None:
        import highspy

        self.h = h
        self.model = model
        self.inf = highspy.kHighsInf
        self.variables, self.lower, self.upper, self.cost = column_arrays(model.lp)
        n = len(self.variables)
        self.col_pos = np.full(n, -1, dtype=np.int64)
        self.names: list[str] = []
        self.row_lower: list[float] = []
        self.row_upper: list[float] = []
        self.owner: list[int] = []
        self.row_pos: list[int] = []
        self._blocks: list[sparse.csr_matrix] = []
        self._matrix: sparse.csr_matrix | None = None
        self._catalogue(
            [
                (name, row)
                for name, row in model.lp.constraints.items()
                if name.partition("_")[0] not in relaxed
            ]
        )
        active = self._initial_columns(near, start)
        self._load(active)

    # ---- catalogue -----------------------------------------------------------------------------------------------

    def _catalogue(self, items: list[tuple[str, pulp.LpConstraint]]) -> list[int]:
        """Append rows to the catalogue (not loaded); return their catalogue indices."""
        x = self.model.variables.x
        first = len(self.names)
        indptr, indices, values = [0], [], []
        for name, constraint in items:
            for var, coefficient in constraint.items():
                if coefficient != 0:
                    indices.append(var.index)
                    values.append(coefficient)
            indptr.append(len(indices))
            lb, ub = constraint.getLb(), constraint.getUb()
            self.names.append(name)
            self.row_lower.append(-self.inf if lb is None else lb)
            self.row_upper.append(self.inf if ub is None else ub)
            family, _, rest = name.partition("_")
            owner = -1
            if family in OWNED_FAMILIES:
                unit, centre = (int(part) for part in rest.split("_"))
                owner = x[(unit, centre)].index
            self.owner.append(owner)
            self.row_pos.append(-1)
        block = sparse.csr_matrix(
            (np.array(values, float), np.array(indices, np.int64), np.array(indptr, np.int64)),
            shape=(len(items), len(self.variables)),
        )
        self._blocks.append(block)
        self._matrix = None
        return list(range(first, len(self.names)))

    @property
    def matrix(self) -> sparse.csr_matrix:
        """The catalogue's rows x columns matrix."""
        if self._matrix is None:
            self._matrix = sparse.vstack(self._blocks, format="csr")
            self._blocks = [self._matrix]
        return self._matrix

    def _initial_columns(self, near: int | None, start: np.ndarray | None) -> np.ndarray:
        """Every non-x column, each unit's ``near`` nearest centres, root pairs and the start plan's pairs."""
        p, v = self.model.problem, self.model.variables
        active = np.ones(len(self.variables), dtype=bool)
        if near is None or self.model.contiguity != "cuts":
            return active
        for var in v.x.values():
            active[var.index] = False
        for unit, centres in v.centres_of.items():
            order = sorted(centres, key=lambda c: (p.distance_km[unit, c], c))
            for centre in order[:near]:
                active[v.x[(unit, centre)].index] = True
        for centre in self.model.centres:
            active[v.opened(p, centre).index] = True
        if start is not None:
            for unit, centre in enumerate(self.model.canonical(start).tolist()):
                if (unit, centre) in v.x:
                    active[v.x[(unit, centre)].index] = True
        return active

    # ---- loading ---------------------------------------------------------------------------------------------------

    def _load(self, active: np.ndarray) -> None:
        """Load the ``active`` columns and every row they allow into the empty highspy model."""
        columns = np.flatnonzero(active)
        self.col_pos[columns] = np.arange(len(columns))
        self.h.addVars(len(columns), self.lower[columns], self.upper[columns])
        self.h.changeColsCost(len(columns), np.arange(len(columns), dtype=np.int32), self.cost[columns])
        self.h.changeObjectiveOffset(float(self.model.lp.objective.constant))
        self._load_rows([r for r in range(len(self.names)) if self._loadable(r)])

    def _loadable(self, row: int) -> bool:
        return self.row_pos[row] < 0 and (self.owner[row] < 0 or self.col_pos[self.owner[row]] >= 0)

    def _load_rows(self, rows: list[int]) -> None:
        """Load catalogue ``rows``, restricted to the loaded columns."""
        if not rows:
            return
        block = self.matrix[rows].tocsr()
        keep = self.col_pos[block.indices] >= 0
        counts = _segment_counts(keep, block.indptr)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32)
        first = self.h.getNumRow()
        for offset, row in enumerate(rows):
            self.row_pos[row] = first + offset
        self.h.addRows(
            len(rows),
            np.array([self.row_lower[r] for r in rows], float),
            np.array([self.row_upper[r] for r in rows], float),
            int(keep.sum()),
            starts,
            self.col_pos[block.indices[keep]].astype(np.int32),
            block.data[keep].astype(float),
        )

    def add_rows(self, constraints: list[tuple[str, pulp.LpConstraint]]) -> None:
        """Add new rows (cuts over the model's variables) to the catalogue and load them."""
        self._load_rows(self._catalogue(constraints))

    def add_columns(self, columns: np.ndarray) -> None:
        """Load left-out ``columns`` with their entries in loaded rows, then the rows they own."""
        columns = np.sort(np.asarray(columns, dtype=np.int64))
        if not len(columns):
            return
        loaded = np.array([pos >= 0 for pos in self.row_pos], dtype=bool)
        block = self.matrix[:, columns].tocsc()
        keep = loaded[block.indices]
        row_pos = np.asarray(self.row_pos, dtype=np.int64)
        counts = _segment_counts(keep, block.indptr)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32)
        first = self.h.getNumCol()
        self.h.addCols(
            len(columns),
            self.cost[columns],
            self.lower[columns],
            self.upper[columns],
            int(keep.sum()),
            starts,
            row_pos[block.indices[keep]].astype(np.int32),
            block.data[keep].astype(float),
        )
        self.col_pos[columns] = first + np.arange(len(columns))
        owned = set(columns.tolist())
        self._load_rows([r for r, owner in enumerate(self.owner) if owner in owned and self.row_pos[r] < 0])

    # ---- solution ----------------------------------------------------------------------------------------------------

    @property
    def loaded_columns(self) -> int:
        return int((self.col_pos >= 0).sum())

    def solution(self) -> tuple[np.ndarray, np.ndarray]:
        """Values and reduced costs of every catalogue column (values 0 and priced costs for left-out ones)."""
        solution = self.h.getSolution()
        col_value = np.asarray(solution.col_value, float)
        row_dual = np.asarray(solution.row_dual, float)
        pi = np.zeros(len(self.names))
        row_pos = np.asarray(self.row_pos, dtype=np.int64)
        loaded = row_pos >= 0
        pi[loaded] = row_dual[row_pos[loaded]]
        reduced = self.cost - self.matrix.T @ pi
        values = np.zeros(len(self.variables))
        active = self.col_pos >= 0
        values[active] = col_value[self.col_pos[active]]
        reduced[active] = np.asarray(solution.col_dual, float)[self.col_pos[active]]
        return values, reduced

    def left_out(self) -> np.ndarray:
        """Catalogue indices of the columns not loaded."""
        return np.flatnonzero(self.col_pos < 0)

    def price(self, reduced: np.ndarray) -> tuple[float, np.ndarray]:
        """The bound's correction sum min(0, r_j) over left-out columns (each <= 1), and those that enter."""
        left_out = self.left_out()
        negative = left_out[(reduced[left_out] < -PRICE_TOLERANCE) & (self.upper[left_out] > 0)]
        upper = np.minimum(self.upper[negative], 1.0)
        return float((reduced[negative] * upper).sum()), negative


def _segment_counts(keep: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """How many entries of each compressed row (or column) ``keep`` keeps."""
    cumulative = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
    return cumulative[indptr[1:]] - cumulative[indptr[:-1]]
