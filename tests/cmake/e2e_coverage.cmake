# Alert coverage (daemon/coverage) end to end: verify-tool in coverage mode
# against the sandbox (tests/e2e/test_coverage*.py, registered as
# e2e.coverage* by e2e.cmake, which is included before this fragment).
# The story test reads the journal back, so it shares the journald lock.
file(GLOB _coverage_e2e CONFIGURE_DEPENDS
     ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_coverage*.py)
foreach(_py ${_coverage_e2e})
  get_filename_component(_name ${_py} NAME_WE)
  string(REGEX REPLACE "^test_" "e2e." _tname ${_name})
  if(TEST ${_tname})
    set_property(TEST ${_tname} APPEND PROPERTY ENVIRONMENT
                 "CLOUDSAGA_VERIFY_TOOL=$<TARGET_FILE:verify-tool>")
    set_property(TEST ${_tname} APPEND PROPERTY LABELS coverage)
  endif()
endforeach()
if(TEST e2e.coverage)
endif()
