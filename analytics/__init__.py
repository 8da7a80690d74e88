"""Retention analytics: pure Polars functions from the event store to metric frames.

Importable without Reflex. ``analytics.events`` reads the event store into a
LazyFrame; metric functions take LazyFrames and return LazyFrames.
"""
