"""Benchmarks: ``python -m bench [--quick]``.

Every figure is a ratio against a floor measured in the same run on the same machine (these
machines are shared and noisy): the same work done the plainest way, such as the same rows written
in the same transactions with SQLAlchemy Core, or a bare FastAPI endpoint doing the same insert.
Absolute times are printed too, for reading, but targets are set on ratios, latencies under load
and memory. The run prints a table, writes JSON, and exits non-zero when a target is missed.
"""
