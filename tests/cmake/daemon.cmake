# The daemon's configuration and systemd unit, checked through the real
# binary: -n on the shipped example, golden effective configs, broken
# configs with their exact FILE:LINE messages, and the unit under
# systemd-analyze verify / security.
set(_cfgdata ${CMAKE_CURRENT_SOURCE_DIR}/data/config)
set(_drv ${CMAKE_CURRENT_SOURCE_DIR}/cmake/daemon)

function(cloudsaga_expect_test name)
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND}
           -DCLOUDSAGAD=$<TARGET_FILE:cloudsagad> ${ARGN}
           -P ${_drv}/expect.cmake)
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "${CLOUDSAGA_TEST_ENV}" TIMEOUT 60 LABELS daemon)
endfunction()

# -n accepts the shipped example (warning about its placeholder account
# IDs), the installed minimal config without a word, and the issue's
# minimal config as written (a sandbox cycle: warned that its deadline is
# too short for AWS's CloudTrail and its period shorter than the deadline).
cloudsaga_expect_test(daemon.check.example
  "-DARGS=-n|-c|${PROJECT_SOURCE_DIR}/etc/cloudsagad.conf"
  -DEXPECT_RC=0 "-DEXPECT_STDOUT=configuration OK\\n"
  "-DEXPECT_STDERR_REGEX=^[^\n]*/etc/cloudsagad\\.conf:[0-9]+: warning: accounts\\[0\\]\\.role_arn: 111122223333 is an example account ID from the AWS documentation, not a real account\n[^\n]*/etc/cloudsagad\\.conf:[0-9]+: warning: accounts\\[1\\]\\.role_arn: 444455556666 is an example account ID[^\n]*\n$")
cloudsaga_expect_test(daemon.check.installed
  "-DARGS=-n|-c|${PROJECT_SOURCE_DIR}/etc/cloudsagad.conf.minimal"
  -DEXPECT_RC=0 "-DEXPECT_STDOUT=configuration OK\\n" -DEXPECT_STDERR=)
cloudsaga_expect_test(daemon.check.minimal
  "-DARGS=--check|--config|minimal.conf" -DWORKDIR=${_cfgdata}
  -DEXPECT_RC=0 "-DEXPECT_STDOUT=configuration OK\\n"
  "-DEXPECT_STDERR=minimal.conf:2: warning: verify.deadline (1m) is shorter than 15m: CloudTrail shows an event to LookupEvents after about 5 minutes, sometimes 15, so calls it logs late would be reported missing\\nminimal.conf:3: warning: schedule[0].every: the period (30s) is shorter than verify.deadline (1m): a run that waits for a call CloudTrail has not shown yet is still verifying when the next comes due, which is then skipped\\n")

# Golden effective configurations (defaults filled in).
foreach(_g minimal full)
  cloudsaga_expect_test(daemon.golden.${_g}
    "-DARGS=--print-config|-c|${_g}.conf" -DWORKDIR=${_cfgdata}
    -DEXPECT_RC=0 -DEXPECT_STDOUT_FILE=${_cfgdata}/${_g}.golden
    -DEXPECT_STDERR=)
endforeach()
cloudsaga_expect_test(daemon.golden.example
  "-DARGS=--print-config|-c|${PROJECT_SOURCE_DIR}/etc/cloudsagad.conf"
  -DEXPECT_RC=0 -DEXPECT_STDOUT_FILE=${_cfgdata}/example.golden
  -DEXPECT_STDERR=)

# Broken configs: exit 1, nothing on stdout, exactly the FILE:LINE errors.
file(GLOB _broken CONFIGURE_DEPENDS ${_cfgdata}/broken/*.conf)
foreach(_b ${_broken})
  get_filename_component(_n ${_b} NAME_WE)
  cloudsaga_expect_test(daemon.broken.${_n}
    "-DARGS=-n|-c|${_n}.conf" -DWORKDIR=${_cfgdata}/broken
    -DEXPECT_RC=1 -DEXPECT_STDOUT= -DEXPECT_STDERR_FILE=${_cfgdata}/broken/${_n}.err)
endforeach()

# The daemon itself refuses to start on a broken file, naming FILE:LINE.
cloudsaga_expect_test(daemon.start.broken
  "-DARGS=-d|-c|unknown-scenario.conf" -DWORKDIR=${_cfgdata}/broken
  -DEXPECT_RC=1 -DEXPECT_STDOUT=
  "-DEXPECT_STDERR_REGEX=unknown-scenario.conf:[0-9]+: schedule\\[1\\]\\.scenario: unknown scenario.*cannot start")
cloudsaga_expect_test(daemon.start.missing
  "-DARGS=-d|-c|/nonexistent/cloudsagad.conf" -DEXPECT_RC=1
  "-DEXPECT_STDERR_REGEX=/nonexistent/cloudsagad.conf: No such file or directory")

# systemd units (generated for the prefix): verify must be clean, also with
# the credentials drop-in, the exposure at most 1.5 (1.1 today).
find_program(SYSTEMD_ANALYZE systemd-analyze)
if(NOT SYSTEMD_ANALYZE)
  message(WARNING "systemd-analyze not found: the unit tests are not run")
else()
  foreach(_unit cloudsagad.service cloudsagad@.service)
    string(REGEX REPLACE "cloudsagad(@?)\\.service" "\\1" _t ${_unit})
    if(_t)
      set(_t ".template")
    endif()
    foreach(_mode verify security)
      add_test(NAME daemon.unit${_t}.${_mode} COMMAND ${CMAKE_COMMAND}
               -DMODE=${_mode} -DSA=${SYSTEMD_ANALYZE}
               -DUNIT=${PROJECT_BINARY_DIR}/systemd/${_unit}
               -DSBIN=${CMAKE_INSTALL_FULL_SBINDIR}
               -DCLOUDSAGAD=$<TARGET_FILE:cloudsagad>
               -DDROPIN=${PROJECT_SOURCE_DIR}/systemd/cloudsagad.service.d/credentials.conf.example
               -DDROPIN_NAME=credentials.conf
               -DWORK=${CMAKE_CURRENT_BINARY_DIR}/unit${_t}-${_mode}
               -DMAX_EXPOSURE=1.5 -P ${_drv}/unit.cmake)
      set_tests_properties(daemon.unit${_t}.${_mode} PROPERTIES
        TIMEOUT 120 LABELS daemon)
    endforeach()
  endforeach()
endif()
