# Scenario framework tests: test_scenario_run and test_scenario_safety drive
# the real client against loopback servers from testsrv
# (tests/unit/testsrv.h).
foreach(_t test_scenario_run test_scenario_safety)
  if(TARGET ${_t} AND TARGET testsrv)
    target_link_libraries(${_t} PRIVATE testsrv)
  endif()
endforeach()
