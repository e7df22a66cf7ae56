find_library(XGBOOST_BENCH_LIBRARY xgboost REQUIRED)
add_executable(models_bench ${CMAKE_CURRENT_LIST_DIR}/models_bench.cc)
target_include_directories(models_bench PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(models_bench PRIVATE gyre_models ${XGBOOST_BENCH_LIBRARY} fmt::fmt)
