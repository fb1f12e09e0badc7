"""A realistic, deterministic demo data set for `make run`, the tests' manual checks and the benchmarks."""
