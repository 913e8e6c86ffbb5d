# systemd unit checks on a copy of systemd/cloudsagad.service whose command
# lines point at the binary just built (verify wants them to exist).
#   cmake -DMODE=verify|security -DUNIT=file -DCLOUDSAGAD=bin -DWORK=dir
#         -DSA=systemd-analyze [-DMAX_EXPOSURE=1.5] -P unit.cmake
cmake_minimum_required(VERSION 3.18)

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
file(READ ${UNIT} _unit)
string(REPLACE "/usr/sbin/cloudsagad" "${CLOUDSAGAD}" _unit "${_unit}")
set(_copy ${WORK}/cloudsagad.service)
file(WRITE ${_copy} "${_unit}")

if(MODE STREQUAL "verify")
  # --man=no: the man pages are not installed where verify looks.
  execute_process(COMMAND ${SA} verify --man=no ${_copy}
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out
                  ERROR_VARIABLE _err TIMEOUT 60)
  # Warnings count: any line about our unit fails the test.
  if(NOT _rc EQUAL 0 OR "${_out}${_err}" MATCHES "cloudsagad")
    message(FATAL_ERROR "systemd-analyze verify: exit ${_rc}\n${_out}${_err}")
  endif()
  message(STATUS "systemd-analyze verify: clean")
elseif(MODE STREQUAL "security")
  execute_process(COMMAND ${SA} security --offline=yes --no-pager ${_copy}
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out
                  ERROR_VARIABLE _err TIMEOUT 60)
  if(NOT "${_out}" MATCHES
     "Overall exposure level for cloudsagad.service: ([0-9]+\\.[0-9]+)")
    message(FATAL_ERROR "no exposure level in:\n${_out}${_err}")
  endif()
  set(_exp ${CMAKE_MATCH_1})
  message(STATUS "exposure ${_exp} (at most ${MAX_EXPOSURE})")
  # Compare in tenths: no floating point in CMake's math().
  string(REPLACE "." "" _e10 "${_exp}")
  string(REPLACE "." "" _m10 "${MAX_EXPOSURE}")
  math(EXPR _e10 "${_e10}")
  math(EXPR _m10 "${_m10}")
  if(_e10 GREATER _m10)
    message(FATAL_ERROR "exposure ${_exp} > ${MAX_EXPOSURE}:\n${_out}")
  endif()
else()
  message(FATAL_ERROR "MODE must be verify or security")
endif()
