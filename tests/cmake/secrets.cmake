# Secrets in freed memory (tests/unit/test_secret_wipe.c): credentials
# fetched through the real paths from a loopback server (testsrv, from
# tests/cmake/http.cmake) while every freed block is searched.
target_link_libraries(test_secret_wipe PRIVATE testsrv)
