"""A dataset against a plain list model through random append/commit/rollback/branch/checkout/reopen."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import lakelet.datasets as L
from lakelet.datasets import types

values = st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=5)


class DatasetModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.url = f"memory://prop-{uuid.uuid4().hex[:12]}/ds"
        self.ds = L.create(self.url, schema={"v": types.Int64(), "s": types.Text()})
        self.committed: dict[str, list[int]] = {"main": []}
        self.branch = "main"
        self.working: list[int] = []
        self.dirty = False

    @rule(new=values)
    def append(self, new: list[int]) -> None:
        self.ds.append({"v": new, "s": [str(x) for x in new]})
        self.working = self.working + new
        self.dirty = True

    @rule(row=st.integers(0, 8), value=st.integers(-100, 100))
    def update(self, row: int, value: int) -> None:
        if row < len(self.working):
            self.ds["v"][row] = value
            self.ds["s"][row] = str(value)
            self.working[row] = value
            self.dirty = True

    @rule()
    def commit(self) -> None:
        self.ds.commit("step")
        self.committed[self.branch] = list(self.working)
        self.dirty = False

    @rule()
    def rollback(self) -> None:
        self.ds.rollback()
        self.working = list(self.committed[self.branch])
        self.dirty = False

    @precondition(lambda self: not self.dirty)
    @rule(name=st.sampled_from(["a", "b", "c"]))
    def branch_and_checkout(self, name: str) -> None:
        if name not in self.committed:
            self.ds.branch(name)
            self.committed[name] = list(self.committed[self.branch])
        self.ds.checkout(name)
        self.branch = name
        self.working = list(self.committed[name])

    @precondition(lambda self: self.dirty)
    @rule()
    def checkout_refused_when_dirty(self) -> None:
        with pytest.raises(L.DatasetError):
            self.ds.checkout("main")

    @rule()
    def other_handle_sees_last_commit(self) -> None:
        other = L.open_read_only(self.url, branch=self.branch)
        assert other["v"][:].tolist() == self.committed[self.branch]

    @invariant()
    def matches_model(self) -> None:
        assert len(self.ds) == len(self.working)
        assert self.ds["v"][:].tolist() == self.working
        assert self.ds["s"][:] == [str(x) for x in self.working]
        assert self.ds.has_changes == self.dirty


TestDatasetModel = DatasetModel.TestCase
TestDatasetModel.settings = settings(
    max_examples=25, stateful_step_count=12, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
