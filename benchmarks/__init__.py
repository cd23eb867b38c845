"""Benchmarks: scripts that measure and print figures and ratios; they never pass or fail."""
