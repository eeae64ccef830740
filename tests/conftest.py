"""Shared pytest setup: real storage test servers (see lakelet.testing.pytest_plugin)."""

pytest_plugins = ["lakelet.testing.pytest_plugin"]
