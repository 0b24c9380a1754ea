"""Aging policy: the basis (due date or document date) and the bucket edges.

Buckets always add up to the balance: a "not yet due" bucket holds what is not overdue
(due basis), an "unapplied" bucket holds credits (receipts, credit notes) not yet matched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

from xlar.domain.errors import InvalidSetting

DEFAULT_EDGES = (30, 60, 90, 120, 180)
LONGEST_EDGE = 36_500   # 100 years: a cut-off date as_of - edge stays a date (800000 days does not)
NOT_DUE = "not_due"
UNAPPLIED = "unapplied"


class Basis(StrEnum):
    DUE = "due"
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class AgingPolicy:
    basis: Basis = Basis.DUE
    edges: tuple[int, ...] = DEFAULT_EDGES

    def __post_init__(self) -> None:
        if not self.edges:
            raise InvalidSetting("aging needs at least one bucket edge")
        if any(e <= 0 for e in self.edges) or list(self.edges) != sorted(set(self.edges)):
            raise InvalidSetting(
                f"aging bucket edges must be positive and increasing, got {list(self.edges)}"
            )
        if self.edges[-1] > LONGEST_EDGE:
            raise InvalidSetting(f"aging bucket edges are at most {LONGEST_EDGE} days (100 years), "
                                 f"got {self.edges[-1]}")

    @classmethod
    def parse(cls, basis: str, edges: str) -> AgingPolicy:
        """From the settings' text: basis 'due'|'document', edges '30,60,90'."""
        try:
            parsed_basis = Basis(basis.strip())
        except ValueError:
            raise InvalidSetting(f"aging basis must be 'due' or 'document', got {basis!r}") from None
        try:
            parsed = tuple(int(part) for part in edges.split(",") if part.strip())
        except ValueError:
            raise InvalidSetting(f"aging buckets must be whole days like '30,60,90', got {edges!r}") from None
        return cls(parsed_basis, parsed)

    @property
    def age_labels(self) -> tuple[str, ...]:
        """Labels of the age buckets, youngest first (without 'unapplied')."""
        first = 1 if self.basis is Basis.DUE else 0
        labels = [NOT_DUE] if self.basis is Basis.DUE else []
        low = first
        for edge in self.edges:
            labels.append(f"{low}-{edge}")
            low = edge + 1
        labels.append(f"{self.edges[-1] + 1}+")
        return tuple(labels)

    @property
    def labels(self) -> tuple[str, ...]:
        return (*self.age_labels, UNAPPLIED)

    def lower_bounds(self, as_of: date) -> list[tuple[str, date]]:
        """(label, earliest date in it) for every age bucket but the oldest, youngest first.

        An item whose basis date is on or after a bucket's earliest date falls in the
        first such bucket; older ones fall in the last label. Dates are computed here so
        that SQL only compares dates.
        """
        offsets = ([0] if self.basis is Basis.DUE else []) + list(self.edges)
        labels = self.age_labels
        return [(labels[i], as_of - timedelta(days=days)) for i, days in enumerate(offsets)]

    def bucket_of(self, basis_on: date, as_of: date) -> str:
        """The age bucket of an item whose due (or document) date is BASIS_ON."""
        bounds, oldest = _bounds(self, as_of)
        for label, earliest in bounds:
            if basis_on >= earliest:
                return label
        return oldest


@lru_cache(maxsize=256)
def _bounds(policy: AgingPolicy, as_of: date) -> tuple[tuple[tuple[str, date], ...], str]:
    """POLICY's lower bounds as of AS_OF and its oldest label, worked out once (a report asks
    for the bucket of every item)."""
    return tuple(policy.lower_bounds(as_of)), policy.age_labels[-1]
