# datagen has no benchmark binary: bench/datagen_bench.sh times `gyre datagen ato` end to end (the number
# that matters is events written per second, files included) against a plain write of the same bytes.
