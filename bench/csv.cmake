# CSV reader throughput against a plain read() of the same file (bench/csv_bench.sh runs it).
add_executable(csv_read_bench ${CMAKE_CURRENT_SOURCE_DIR}/csv_read_bench.cc)
target_link_libraries(csv_read_bench PRIVATE gyre_core fmt::fmt)
