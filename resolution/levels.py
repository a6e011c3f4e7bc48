"""Comparison levels Splink's library does not have, written for DuckDB and Spark."""

from __future__ import annotations

from typing import Any

from splink.internals.comparison_level_creator import ComparisonLevelCreator

from resolution.config import IdentityConfigError


class ReversedJaroWinklerLevel(ComparisonLevelCreator):
    """Both columns swapped and similar: ``jw(a_l, b_r) >= t AND jw(b_l, a_r) >= t``.

    For a family name and a given name written in the other order with a typo.
    """

    def __init__(self, column: str, other: str, threshold: float) -> None:
        self.column = column
        self.other = other
        self.threshold = threshold

    def create_sql(self, sql_dialect: Any) -> str:
        jw = sql_dialect.jaro_winkler_function_name
        a, b, t = self.column, self.other, self.threshold
        return f"{jw}({a}_l, {b}_r) >= {t} AND {jw}({b}_l, {a}_r) >= {t}"

    def create_label_for_charts(self) -> str:
        return f"{self.column} and {self.other} swapped, Jaro-Winkler >= {self.threshold}"


class TokensCoverLevel(ComparisonLevelCreator):
    """Every token of one name matches a token of the other, in any order.

    Tokens match when equal, or when the shorter, of at most ``PREFIX_MAX`` letters, begins the
    longer: an initial or a cut-off token ("nguyen v anh" / "anh nguyen van", "pham thi hu" /
    "pham thi huyen", "tran van t" / "tran v tuan"); a missing middle name is covered too. The
    covered name must have two tokens or more, so a bare family name covers nobody. Array SQL
    differs by dialect (DuckDB lambdas are ``lambda x: ...``, Spark's ``x -> ...``).
    """

    PREFIX_MAX = 3

    def __init__(self, column: str, initials: str | None = None) -> None:
        self.column = column
        self.initials = initials  # a column of each name's token initials, sorted (a pre-check)

    def _token_match(self, x: str, y: str) -> str:
        n = self.PREFIX_MAX
        return (
            f"({y} = {x} OR (length({x}) <= {n} AND substr({y}, 1, length({x})) = {x})"
            f" OR (length({y}) <= {n} AND substr({x}, 1, length({y})) = {y}))"
        )

    def _covered(self, dialect: str, small: str, large: str) -> str:
        match = self._token_match("x", "y")
        if dialect == "duckdb":
            tokens, other = f"str_split({small}, ' ')", f"str_split({large}, ' ')"
            return (
                f"(len({tokens}) >= 2 AND list_bool_and(list_transform({tokens}, lambda x: "
                f"len(list_filter({other}, lambda y: {match})) > 0)))"
            )
        if dialect == "spark":
            tokens, other = f"split({small}, ' ')", f"split({large}, ' ')"
            return f"(size({tokens}) >= 2 AND forall({tokens}, x -> exists({other}, y -> {match})))"
        raise IdentityConfigError(f"tokens_cover has no SQL for the {dialect} dialect")

    def create_sql(self, sql_dialect: Any) -> str:
        dialect = sql_dialect.sql_dialect_str
        left, right = f"{self.column}_l", f"{self.column}_r"
        # A cheap pre-check first (most pairs scored in training are random ones): a covered
        # name's token initials are all initials of the other name's tokens.
        if self.initials is None:
            return f"{self._covered(dialect, left, right)} OR {self._covered(dialect, right, left)}"
        il, ir = f"{self.initials}_l", f"{self.initials}_r"
        # CASE, not AND: DuckDB evaluates both sides of an AND holding lambdas.
        return (
            f"(CASE WHEN {self._initials_within(dialect, il, ir)} "
            f"THEN {self._covered(dialect, left, right)} ELSE FALSE END) OR "
            f"(CASE WHEN {self._initials_within(dialect, ir, il)} "
            f"THEN {self._covered(dialect, right, left)} ELSE FALSE END)"
        )

    @staticmethod
    def _initials_within(dialect: str, small: str, large: str) -> str:
        # The first and last initials first (scalar, cheap), then all of them (arrays).
        ends = (
            f"instr({large}, substr({small}, 1, 1)) > 0 AND "
            f"instr({large}, substr({small}, length({small}), 1)) > 0"
        )
        if dialect == "duckdb":
            every = f"list_has_all(str_split({large}, ''), str_split({small}, ''))"
        else:
            every = f"size(array_except(split({small}, ''), split({large}, ''))) = 0"
        return f"CASE WHEN {ends} THEN {every} ELSE FALSE END"

    def create_label_for_charts(self) -> str:
        return f"tokens of one {self.column} all in the other (or their initials, prefixes)"
