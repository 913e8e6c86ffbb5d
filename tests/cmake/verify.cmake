# Verification and reporting: verify-tool (the real verifier, ledger and
# reporter driven against the sandbox) for the end-to-end tests
# e2e.verify* and e2e.journal*.  Tests that start or read systemd-journald
# get a journal of their own (tests/e2e/journald.py: a private mount
# namespace), so they need no lock and run in parallel.
add_executable(verify-tool ${CMAKE_CURRENT_SOURCE_DIR}/e2e/verify_tool.c)
target_link_libraries(verify-tool PRIVATE cloudsaga)
set_target_properties(verify-tool PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                      ${CMAKE_CURRENT_BINARY_DIR}/tools)

file(GLOB _verify_e2e CONFIGURE_DEPENDS
     ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_verify*.py
     ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_journal*.py)
foreach(_py ${_verify_e2e})
  get_filename_component(_name ${_py} NAME_WE)
  string(REGEX REPLACE "^test_" "e2e." _tname ${_name})
  if(TEST ${_tname})
    set_property(TEST ${_tname} APPEND PROPERTY ENVIRONMENT
                 "CLOUDSAGA_VERIFY_TOOL=$<TARGET_FILE:verify-tool>")
    set_property(TEST ${_tname} APPEND PROPERTY LABELS verify)
  endif()
endforeach()

# The verifier against a fake CloudTrail on loopback (testsrv).
if(TARGET test_verifier)
  target_link_libraries(test_verifier PRIVATE testsrv)
endif()
