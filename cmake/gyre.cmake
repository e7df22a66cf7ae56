# gyre_module(NAME SOURCES... DEPS ...): one static library per src/<module>, named gyre_<module>.
# Includes are rooted at src/, so every include names its module: #include "core/status.h".
function(gyre_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(gyre_${name} STATIC ${ARG_SOURCES})
  target_include_directories(gyre_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(gyre_${name} PUBLIC ${ARG_DEPS})
endfunction()

# gyre_test(NAME SOURCES... DEPS ...): one GoogleTest executable, its cases registered with CTest.
# Tests run from the build tree; GYRE_SOURCE_DIR lets them find fixtures under tests/ and examples/.
function(gyre_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_definitions(${name} PRIVATE GYRE_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                             GYRE_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
endfunction()
