# Run cloudsagad once and compare exit status, stdout and stderr exactly.
#   cmake -DCLOUDSAGAD=bin -DARGS="-n|-c|file" [-DWORKDIR=dir]
#         [-DEXPECT_RC=n] [-DEXPECT_STDOUT=text | -DEXPECT_STDOUT_FILE=f]
#         [-DEXPECT_STDERR=text | -DEXPECT_STDERR_FILE=f]
#         [-DEXPECT_STDERR_REGEX=re] -P expect.cmake
# Arguments are separated by "|" (a ";" would be split by add_test).
# "\n" in EXPECT_STDOUT / EXPECT_STDERR stands for a newline.
cmake_minimum_required(VERSION 3.18)

# Defaults must not leak in from a surrounding systemd service.
unset(ENV{STATE_DIRECTORY})
unset(ENV{CONFIGURATION_DIRECTORY})
unset(ENV{NOTIFY_SOCKET})
unset(ENV{JOURNAL_STREAM})
# -n warns about a short verify.deadline only when LookupEvents would go to
# AWS: the caller's endpoint overrides must not change the expected text.
unset(ENV{AWS_ENDPOINT_URL})
unset(ENV{AWS_ENDPOINT_URL_CLOUDTRAIL})
unset(ENV{AWS_IGNORE_CONFIGURED_ENDPOINT_URLS})

string(REPLACE "|" ";" _args "${ARGS}")
if(NOT WORKDIR)
  set(WORKDIR ".")
endif()
execute_process(COMMAND ${CLOUDSAGAD} ${_args}
                WORKING_DIRECTORY ${WORKDIR}
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err
                TIMEOUT 30)

set(_fail "")
macro(_expect what got want)
  if(NOT "${got}" STREQUAL "${want}")
    string(APPEND _fail "${what} differs\n--- want\n${want}\n--- got\n${got}\n")
  endif()
endmacro()

if(DEFINED EXPECT_RC)
  _expect("exit status" "${_rc}" "${EXPECT_RC}")
endif()
foreach(_s STDOUT STDERR)
  if(_s STREQUAL "STDOUT")
    set(_got "${_out}")
  else()
    set(_got "${_err}")
  endif()
  if(DEFINED EXPECT_${_s}_FILE)
    file(READ ${EXPECT_${_s}_FILE} _want)
    _expect("${_s}" "${_got}" "${_want}")
  elseif(DEFINED EXPECT_${_s})
    string(REPLACE "\\n" "\n" _want "${EXPECT_${_s}}")
    _expect("${_s}" "${_got}" "${_want}")
  endif()
endforeach()
if(DEFINED EXPECT_STDERR_REGEX AND NOT _err MATCHES "${EXPECT_STDERR_REGEX}")
  string(APPEND _fail "stderr does not match ${EXPECT_STDERR_REGEX}\n--- got\n${_err}\n")
endif()

if(_fail)
  message(FATAL_ERROR "cloudsagad ${_args} (in ${WORKDIR}):\n${_fail}")
endif()
message(STATUS "cloudsagad ${_args}: exit ${_rc} as expected")
