# The local AWS sandbox (tests/sandbox/): every tests/sandbox/tests/test_NAME.py
# is one ctest test `sandbox.NAME`.  Each starts its own aws-sandbox on a free
# loopback port and stops it, so they may run in parallel (ctest -j).

file(GLOB _sandbox_tests CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/tests/sandbox/tests/test_*.py)
list(SORT _sandbox_tests)
foreach(_src ${_sandbox_tests})
  get_filename_component(_name ${_src} NAME_WE)
  string(REGEX REPLACE "^test_" "sandbox." _tname ${_name})
  add_test(NAME ${_tname} COMMAND ${CLOUDSAGA_PYTHON} ${_src})
  set_tests_properties(${_tname} PROPERTIES
    ENVIRONMENT "${CLOUDSAGA_TEST_ENV};PYTHONDONTWRITEBYTECODE=1"
    TIMEOUT 240
    LABELS sandbox)
endforeach()
