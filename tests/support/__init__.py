"""Helpers the tests of several packages share, and the benchmarks may use too: real
servers and realms set up the way the tests need them. Nothing here is a test."""
