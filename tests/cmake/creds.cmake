# Credentials tests that need a loopback HTTP server (testsrv, from
# tests/cmake/http.cmake) and, for STS, a moto_server they start themselves.
target_link_libraries(test_creds_http PRIVATE testsrv)
set_tests_properties(unit.creds_http PROPERTIES TIMEOUT 120)
target_link_libraries(test_creds_sts PRIVATE testsrv)
set_tests_properties(unit.creds_sts PROPERTIES TIMEOUT 180 LABELS "unit;moto")
