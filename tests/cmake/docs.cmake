# The documentation against the code (tests/docs_consistency.py): every
# option of daemon/main.c's table in `cloudsagad --help` and
# man/cloudsagad.8; every configuration key the parser accepts in
# man/cloudsagad.conf.5 and etc/cloudsagad.conf, and set by
# tests/data/config/full.conf.  Fails with the list of what is missing.
add_test(NAME docs.consistency
         COMMAND ${CLOUDSAGA_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/docs_consistency.py)
set_tests_properties(docs.consistency PROPERTIES
  ENVIRONMENT "${CLOUDSAGA_TEST_ENV}" TIMEOUT 60 LABELS docs)

# The include graph flows daemon -> scenarios -> common, and a production
# .c file over 1,200 lines says why (scripts/check-layers); the second test
# runs it on a tree where common/ includes a daemon/ header and scenarios/
# includes <libconfig.h>: it must say so (and only that).
add_test(NAME docs.layers
         COMMAND ${CLOUDSAGA_PYTHON} ${PROJECT_SOURCE_DIR}/scripts/check-layers
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(docs.layers PROPERTIES
  ENVIRONMENT "${CLOUDSAGA_TEST_ENV}" TIMEOUT 60 LABELS docs)
add_test(NAME docs.layers_refuses
         COMMAND ${CLOUDSAGA_PYTHON} ${PROJECT_SOURCE_DIR}/scripts/check-layers
                 ${CMAKE_CURRENT_SOURCE_DIR}/data/layers)
set_tests_properties(docs.layers_refuses PROPERTIES
  PASS_REGULAR_EXPRESSION "check-layers: 2 problems:.*common/a.c: includes daemon/d.h, but common/ may only include common/ and system headers.*scenarios/s.c: includes <libconfig.h>"
  TIMEOUT 60 LABELS docs)
