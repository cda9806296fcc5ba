"""Shared pytest configuration: the lab fixtures (`lab000`, `start_lab_from`)."""

pytest_plugins = ["tests.labfixtures"]
