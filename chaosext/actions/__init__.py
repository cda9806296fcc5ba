"""Chaos Toolkit actions: scale, zone, pods, faults."""
