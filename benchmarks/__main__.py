"""`make bench`: run every benchmark and print its figures."""

from benchmarks import bench_render

bench_render.main()
