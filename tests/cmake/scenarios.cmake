# Scenario framework tests: test_scenario_run drives the real client
# against a scripted AWS endpoint served by testsrv (tests/unit/testsrv.h).
if(TARGET test_scenario_run AND TARGET testsrv)
  target_link_libraries(test_scenario_run PRIVATE testsrv)
endif()
