find_library(XGBOOST_TRAIN_BENCH_LIBRARY xgboost REQUIRED)
add_executable(train_bench ${CMAKE_CURRENT_LIST_DIR}/train_bench.cc)
target_include_directories(train_bench PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(train_bench PRIVATE gyre_core ${XGBOOST_TRAIN_BENCH_LIBRARY} fmt::fmt)
