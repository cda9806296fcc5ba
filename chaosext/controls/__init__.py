"""Chaos Toolkit controls: lab bootstrap, verdict, restore, archive."""
