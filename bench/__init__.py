"""Benchmarks (print measured numbers; never part of the test suite) and the browser harness they share with tests/browser."""
