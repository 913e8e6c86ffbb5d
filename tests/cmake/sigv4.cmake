# SigV4: the sigv4-vector tool, the .req parser shared by the tool, the
# unit test and the fuzz target, and script tests over the AWS test suite
# (tests/data/sigv4, 34 cases).

set(SIGV4_DATA ${CMAKE_CURRENT_SOURCE_DIR}/data/sigv4)
set(SIGV4_REQ_SRC ${CMAKE_CURRENT_SOURCE_DIR}/sigv4_req.c)
# Session token of get-vanilla-with-session-token (its README, section 2).
set(SIGV4_SUITE_TOKEN
    6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267)

add_executable(sigv4-vector ${CMAKE_CURRENT_SOURCE_DIR}/sigv4_vector.c
               ${SIGV4_REQ_SRC})
target_include_directories(sigv4-vector PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(sigv4-vector PRIVATE cloudsaga)
set_target_properties(sigv4-vector PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

# unit.sigv4 (tests/unit/test_sigv4.c, made a target by tests/CMakeLists.txt)
# needs the parser and the data folder.
if(TARGET test_sigv4)
  target_sources(test_sigv4 PRIVATE ${SIGV4_REQ_SRC})
  target_include_directories(test_sigv4 PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_definitions(test_sigv4 PRIVATE
    SIGV4_DATA_DIR="${SIGV4_DATA}"
    SIGV4_SUITE_TOKEN="${SIGV4_SUITE_TOKEN}")
endif()
# fuzz_sigv4 (tests/fuzz/fuzz_sigv4.c, made a target by fuzz.cmake, which
# sorts before this file) feeds the same parser.
if(TARGET fuzz_sigv4)
  target_sources(fuzz_sigv4 PRIVATE ${SIGV4_REQ_SRC})
  target_include_directories(fuzz_sigv4 PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
endif()

set(_sigv4_sh ${CMAKE_CURRENT_SOURCE_DIR}/sigv4_vector_test.sh)
# The tool on get-vanilla prints exactly the three expected texts.
add_test(NAME sigv4.vector.get-vanilla
  COMMAND sh ${_sigv4_sh} $<TARGET_FILE:sigv4-vector> case
          ${SIGV4_DATA}/get-vanilla)
# The same for every case of the suite (at least 34 must be found).
add_test(NAME sigv4.vector.suite
  COMMAND sh ${_sigv4_sh} $<TARGET_FILE:sigv4-vector> suite
          ${SIGV4_DATA} ${SIGV4_SUITE_TOKEN})
# Bad arguments and bad requests: exit 2 with a clear message.
add_test(NAME sigv4.vector.errors
  COMMAND sh ${_sigv4_sh} $<TARGET_FILE:sigv4-vector> errors)
set_tests_properties(sigv4.vector.get-vanilla sigv4.vector.suite
  sigv4.vector.errors PROPERTIES LABELS sigv4 TIMEOUT 60
  ENVIRONMENT "${CLOUDSAGA_TEST_ENV}")

# Differential test against botocore's signer (the one moto verifies with):
# 300 seeded random requests through sigv4-vector, Authorization compared.
add_test(NAME sigv4.crosscheck.botocore
  COMMAND ${CLOUDSAGA_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/sigv4_crosscheck.py
          $<TARGET_FILE:sigv4-vector> 300)
set_tests_properties(sigv4.crosscheck.botocore PROPERTIES
  LABELS sigv4 TIMEOUT 120 SKIP_RETURN_CODE 77
  ENVIRONMENT "${CLOUDSAGA_TEST_ENV}")
