"""Benchmark harness: load generation with wrk and servers started on loopback, compared in one run."""
