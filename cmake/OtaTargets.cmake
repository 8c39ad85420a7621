# Helpers that give every target of the project the same flags.
#   ota_library(NAME name SRCS ... DEPS ... [PUBLIC_DEPS ...])
#   ota_test(NAME name SRCS ... DEPS ...)
#   ota_executable(NAME name SRCS ... DEPS ...)

set(OTA_WARNINGS
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Woverloaded-virtual -Wimplicit-fallthrough -Werror=switch)
if(OTA_WERROR)
  list(APPEND OTA_WARNINGS -Werror)
endif()
# g++ 12 reports impossible overlaps in inlined std::string concatenation at -O2/-O3
# (a known false positive, GCC bug 105329).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  list(APPEND OTA_WARNINGS -Wno-restrict)
endif()

function(_ota_common target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_compile_options(${target} PRIVATE ${OTA_WARNINGS})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/src)
endfunction()

function(ota_library)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS;PUBLIC_DEPS" ${ARGN})
  add_library(${A_NAME} STATIC ${A_SRCS})
  _ota_common(${A_NAME})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS} PUBLIC ${A_PUBLIC_DEPS})
endfunction()

function(ota_executable)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${A_NAME} ${A_SRCS})
  _ota_common(${A_NAME})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS})
endfunction()

function(ota_test)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  if(NOT OTA_BUILD_TESTS)
    return()
  endif()
  add_executable(${A_NAME} ${A_SRCS})
  _ota_common(${A_NAME})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${A_NAME} TEST_PREFIX "${A_NAME}." DISCOVERY_TIMEOUT 60)
endfunction()
