# `cmake --install build --prefix P` puts into P:
#   lib/libmqchat_client.a, lib/libmqchat_common.a   the client library (static) and the
#                                                    shared wire code it is built on
#   include/mqchat/client/...,                       its public headers, and the one common
#   include/mqchat/protocol.hpp                      header they include
#   lib/cmake/mqchat/                                find_package(mqchat CONFIG) -> mqchat::client
#   lib/pkgconfig/mqchat.pc                          pkg-config --cflags --libs mqchat
#   bin/mqchat, bin/mqchat-room-manager              the CLI and the room manager
#   lib/mqchat/mqchat_plugin.so                      the broker plugin
#   share/mqchat/mosquitto.conf.in,                  the broker config template and the script
#   libexec/mqchat/broker-conf.sh                    that renders it (scripts/backend.sh and
#                                                    the Docker entrypoint use the same one)
#
# Static, not shared: the library has no stable ABI yet (its classes change
# with every issue), so a shared object would need a soname bump per release;
# static linking also keeps apps free of an mqchat runtime package. The cost:
# an app links Paho C++/C, OpenSSL and libjwt itself, which the package config
# and mqchat.pc name for it.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(MQCHAT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/mqchat)

# The public headers use C++20; apps linking mqchat::client get it too.
target_compile_features(mqchat_client INTERFACE cxx_std_20)
set_target_properties(mqchat_client PROPERTIES EXPORT_NAME client)
set_target_properties(mqchat_common PROPERTIES EXPORT_NAME common)
install(TARGETS mqchat_client mqchat_common
    EXPORT mqchatTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
)

# The client's headers (detail/ too: small, self-contained, used by the
# library's own tests) and, of common/, only what they include.
# tests/install/install_test.sh compiles each installed header on its own
# against the prefix, so a new include of an uninstalled header fails there.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/client-lib/include/mqchat/client
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mqchat
    FILES_MATCHING PATTERN "*.hpp"
)
install(FILES ${PROJECT_SOURCE_DIR}/common/include/mqchat/protocol.hpp
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mqchat
)

install(EXPORT mqchatTargets
    NAMESPACE mqchat::
    DESTINATION ${MQCHAT_CMAKE_DIR}
)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/mqchatConfig.cmake.in
    ${PROJECT_BINARY_DIR}/mqchatConfig.cmake
    INSTALL_DESTINATION ${MQCHAT_CMAKE_DIR}
)
# 0.x: any minor release may break the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/mqchatConfigVersion.cmake
    COMPATIBILITY SameMinorVersion
)
install(FILES
    ${PROJECT_BINARY_DIR}/mqchatConfig.cmake
    ${PROJECT_BINARY_DIR}/mqchatConfigVersion.cmake
    DESTINATION ${MQCHAT_CMAKE_DIR}
)

# mqchat.pc finds its prefix from its own location, so the installed tree
# can be moved (pkg-config's ${pcfiledir}).
file(RELATIVE_PATH MQCHAT_PC_TO_PREFIX
    /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(${CMAKE_CURRENT_LIST_DIR}/mqchat.pc.in ${PROJECT_BINARY_DIR}/mqchat.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/mqchat.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The programs and the plugin. (client-lib/ and service/ install their own
# executables to bin/.)
install(TARGETS mqchat_plugin LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/mqchat)
install(FILES ${PROJECT_SOURCE_DIR}/mosquitto/mosquitto.conf.in
    DESTINATION ${CMAKE_INSTALL_DATADIR}/mqchat
)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/scripts/broker-conf.sh
    DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/mqchat
)

# The documented sample of the room manager's config file.
install(FILES ${PROJECT_SOURCE_DIR}/mqchat.toml.example DESTINATION ${CMAKE_INSTALL_DATADIR}/mqchat)

# The web chat page, for the broker's http_dir (the Docker broker image
# serves it). vendor/mqtt.min.js is there once scripts/web-deps.sh has run.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/web/public/
    DESTINATION ${CMAKE_INSTALL_DATADIR}/mqchat/web)
