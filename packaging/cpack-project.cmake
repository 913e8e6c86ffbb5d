# Read by cpack for every generator (CPACK_PROJECT_CONFIG_FILE).  A Debian
# package installs under /usr with its configuration in /etc: its
# maintainer scripts and conffiles name those paths.
if(CPACK_GENERATOR STREQUAL "DEB" AND
   NOT CPACK_PACKAGING_INSTALL_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR "cpack -G DEB: this build has the prefix "
    "\"${CPACK_PACKAGING_INSTALL_PREFIX}\"; configure a build with "
    "-DCMAKE_INSTALL_PREFIX=/usr for the package")
endif()
