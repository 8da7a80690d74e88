"""Retention analytics: pure Polars functions from the event store to metric frames.

Importable without Reflex. Two layers:

* :mod:`analytics.ingest` flattens Stripe-shaped events — from the database
  (:func:`analytics.events.scan_events`), a Stripe JSON-lines export or Parquet —
  once into a subscription frame (one row per subscription event, with its MRR per
  the retention-events contract) and a flow frame (one row per cancellation-flow
  event); :func:`analytics.ingest.write_parquet` stores big histories by month.
* :mod:`analytics.metrics` (MRR, movements, churn rates, cohorts, reasons,
  deflection) and :mod:`analytics.experiments` (per-variant read-outs) take those
  frames as LazyFrames and return LazyFrames, never collecting.

A dashboard filters with :func:`analytics.metrics.segment` (currencies, products),
:func:`analytics.metrics.convert_currency` and :func:`analytics.metrics.filter_flows`
(currencies, configurations), passes ``start``/``end``/``freq`` to each metric, and
collects all of them at once with ``polars.collect_all`` (shared work runs once).
:mod:`analytics.synthetic` generates a realistic merchant for the demo and the benchmark.
"""
