# Online feature latency: OnlineStore Push/Get in-process and POST /push, /get-online-features over loopback
# HTTP, beside a raw Redis GET (hiredis) in the same run (bench/features_online_bench.sh runs it).
find_path(HIREDIS_INCLUDE_DIR hiredis/hiredis.h)
find_library(HIREDIS_LIBRARY hiredis)
add_executable(features_online_bench ${CMAKE_CURRENT_LIST_DIR}/features_online_bench.cc)
target_include_directories(features_online_bench PRIVATE ${PROJECT_SOURCE_DIR} ${HIREDIS_INCLUDE_DIR})
target_compile_definitions(features_online_bench PRIVATE GYRE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
target_link_libraries(features_online_bench PRIVATE gyre_api gyre_datagen CLI11::CLI11 fmt::fmt
                                                    nlohmann_json::nlohmann_json ${HIREDIS_LIBRARY})
