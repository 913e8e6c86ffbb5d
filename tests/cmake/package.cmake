# The Debian package: tests/package/deb-test builds it (cpack -G DEB in a
# scratch build with prefix /usr), installs it on this machine, checks it
# and purges it.  Root and dpkg only (else skipped, exit 77); it changes
# the machine and builds with -j2, so it runs alone.
add_test(NAME package.deb COMMAND ${PROJECT_SOURCE_DIR}/tests/package/deb-test)
set_tests_properties(package.deb PROPERTIES
  ENVIRONMENT "${CLOUDSAGA_TEST_ENV}"
  SKIP_RETURN_CODE 77
  RUN_SERIAL TRUE
  RESOURCE_LOCK system-packages
  TIMEOUT 300
  LABELS package)
