"""Test support for lakelet: real test servers, pytest fixtures and conformance suites.

Import the submodules directly (``lakelet.testing.servers``, ``lakelet.testing.pytest_plugin``);
this package imports nothing heavy on its own. May import anything in lakelet except ``jupyter``;
nothing in lakelet imports it.
"""
