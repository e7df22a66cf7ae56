add_executable(tracking_bench ${CMAKE_CURRENT_LIST_DIR}/tracking_bench.cc)
target_include_directories(tracking_bench PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(tracking_bench PRIVATE fmt::fmt nlohmann_json::nlohmann_json)
