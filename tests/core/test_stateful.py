"""Hypothesis state machines: each local location and composite against a dict model."""

from __future__ import annotations

import tempfile

from hypothesis import HealthCheck, settings

from lakelet import Disk, Fanout, Level, Levels, Memory, Small
from lakelet.testing.stateful import LocationStateMachine

_settings = settings(max_examples=25, stateful_step_count=30, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])


def _tmp() -> str:
    return tempfile.mkdtemp(prefix="lakelet-stateful-")


class DiskMachine(LocationStateMachine):
    make_location = staticmethod(lambda: Disk(_tmp()))


class MemoryMachine(LocationStateMachine):
    make_location = staticmethod(lambda: Memory())


class LevelsMachine(LocationStateMachine):
    make_location = staticmethod(
        lambda: Levels(Level(Small(Memory(), max_size=1000), write=False), Level(Disk(_tmp()), write=False),
                       Disk(_tmp()))
    )


class FanoutMachine(LocationStateMachine):
    make_location = staticmethod(lambda: Fanout(Disk(_tmp(), max_size=5000), Memory(max_size=20000), Disk(_tmp())))


TestDiskMachine = DiskMachine.TestCase
TestMemoryMachine = MemoryMachine.TestCase
TestLevelsMachine = LevelsMachine.TestCase
TestFanoutMachine = FanoutMachine.TestCase
for _case in (TestDiskMachine, TestMemoryMachine, TestLevelsMachine, TestFanoutMachine):
    _case.settings = _settings
