# libFuzzer targets, built with -DCLOUDSAGA_FUZZ=ON -DCMAKE_C_COMPILER=clang.
#
# Every tests/fuzz/fuzz_NAME.c becomes the executable fuzz_NAME (in
# build/tests/fuzz/), linked with the cloudsaga library and
# -fsanitize=fuzzer; it defines LLVMFuzzerTestOneInput.  Seeds go in
# tests/fuzz/corpus/NAME/ (committed, small).  Each target gets a ctest smoke
# test fuzz.NAME: every seed once, then a few thousand mutations with a
# fixed seed, new inputs going to a scratch folder in the build tree.  A
# target needing more sources than the library (e.g. a test helper) gets
# them with target_sources(fuzz_NAME ...) in its area's fragment, guarded by
# if(TARGET fuzz_NAME): this file sorts first, so the targets exist by then.
#
# Leaks inside third-party libraries are suppressed by tests/fuzz/lsan.supp
# (LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp for runs by hand).
#
# Longer runs of every target: tests/fuzz/run-all [SECONDS] [RUNS] (one
# line per target, exit 1 on a finding).  One target by hand, e.g. for
# 60 s, growing a corpus outside the tree's seeds (tests/fuzz/corpus-*/ is
# ignored by git):
#   mkdir -p tests/fuzz/corpus-sigv4
#   build-fuzz/tests/fuzz/fuzz_sigv4 -max_total_time=60 \
#       tests/fuzz/corpus-sigv4 tests/fuzz/corpus/sigv4

if(CLOUDSAGA_FUZZ)
  set(CLOUDSAGA_FUZZ_SMOKE_RUNS 5000 CACHE STRING
      "Mutated inputs each fuzz.* ctest smoke test runs after its seeds")
  file(GLOB _fuzzers CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_*.c)
  list(SORT _fuzzers)
  foreach(_src ${_fuzzers})
    get_filename_component(_target ${_src} NAME_WE)       # fuzz_NAME
    string(REGEX REPLACE "^fuzz_" "" _name ${_target})     # NAME
    add_executable(${_target} ${_src})
    target_link_libraries(${_target} PRIVATE cloudsaga)
    target_link_options(${_target} PRIVATE -fsanitize=fuzzer)
    set_target_properties(${_target} PROPERTIES
      RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fuzz)

    set(_scratch ${CMAKE_CURRENT_BINARY_DIR}/fuzz/scratch-${_name})
    set(_corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${_name})
    if(NOT IS_DIRECTORY ${_corpus})
      message(STATUS "fuzz_${_name}: no seeds in ${_corpus}")
      set(_corpus "")
    endif()
    add_test(NAME fuzz.${_name}
      COMMAND sh -c "rm -rf \"$1\" && mkdir -p \"$1\" && shift && exec \"$@\""
              fuzz-smoke ${_scratch}
              $<TARGET_FILE:${_target}> -seed=1 -runs=${CLOUDSAGA_FUZZ_SMOKE_RUNS}
              -max_len=16384 -timeout=20 -rss_limit_mb=2048
              -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/fuzz/
              ${_scratch} ${_corpus})
    set_tests_properties(fuzz.${_name} PROPERTIES
      LABELS fuzz TIMEOUT 300 ENVIRONMENT "${CLOUDSAGA_TEST_ENV}")
    set_property(TEST fuzz.${_name} APPEND PROPERTY ENVIRONMENT
      "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/fuzz/lsan.supp")
  endforeach()
endif()
