# `cmake --install`: the header, the shared library (with its SONAME links),
# the ernie CLI, a CMake config package (find_package(ernie)) and ernie.pc.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(FILES ${PROJECT_SOURCE_DIR}/include/ernie.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS ernie EXPORT ernieTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(TARGET ernie_cli)
  install(TARGETS ernie_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

install(EXPORT ernieTargets NAMESPACE ernie:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ernie)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/ernieConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ernieConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ernie)
# Same major version = same ABI; see docs/abi.md.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ernieConfigVersion.cmake COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ernieConfig.cmake ${PROJECT_BINARY_DIR}/ernieConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ernie)

configure_file(${PROJECT_SOURCE_DIR}/cmake/ernie.pc.in ${PROJECT_BINARY_DIR}/ernie.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/ernie.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
