# End-to-end tests: Python unittest files tests/e2e/test_*.py, each a ctest
# test named e2e.<name>, run with the Python that has moto and boto3.
file(GLOB _e2e_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_*.py)
foreach(_py ${_e2e_tests})
  get_filename_component(_name ${_py} NAME_WE)
  string(REGEX REPLACE "^test_" "e2e." _tname ${_name})
  add_test(NAME ${_tname} COMMAND ${CLOUDSAGA_PYTHON} ${_py}
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/e2e)
  set_tests_properties(${_tname} PROPERTIES
    ENVIRONMENT "${CLOUDSAGA_TEST_ENV}" TIMEOUT 600 LABELS e2e)
endforeach()
