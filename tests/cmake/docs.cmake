# The documentation against the code (tests/docs_consistency.py): every
# option of daemon/main.c's table in `cloudsagad --help` and
# man/cloudsagad.8; every configuration key the parser accepts in
# man/cloudsagad.conf.5 and etc/cloudsagad.conf, and set by
# tests/data/config/full.conf.  Fails with the list of what is missing.
add_test(NAME docs.consistency
         COMMAND ${CLOUDSAGA_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/docs_consistency.py)
set_tests_properties(docs.consistency PROPERTIES
  ENVIRONMENT "${CLOUDSAGA_TEST_ENV}" TIMEOUT 60 LABELS docs)
