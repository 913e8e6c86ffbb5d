# The HTTP engine's tests, and testsrv: a real HTTP/1.1 server on loopback
# in its own thread (tests/unit/testsrv.h documents it).  Any unit test can
# use it: target_link_libraries(test_NAME PRIVATE testsrv) in its fragment.
find_package(Threads REQUIRED)
add_library(testsrv STATIC ${CMAKE_CURRENT_SOURCE_DIR}/unit/testsrv.c)
target_include_directories(testsrv PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/unit)
target_link_libraries(testsrv PUBLIC cloudsaga Threads::Threads)

if(TARGET test_http)
  target_link_libraries(test_http PRIVATE testsrv)
endif()
