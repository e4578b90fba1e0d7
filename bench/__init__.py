"""Benchmarks (they print measured numbers; never part of the test suite) and the browser harness tests/browser
shares."""
