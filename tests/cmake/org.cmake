# Organizations discovery and sharding (#13): the unit test talks to a fake
# Organizations on a loopback server (testsrv).
target_link_libraries(test_org PRIVATE testsrv)
