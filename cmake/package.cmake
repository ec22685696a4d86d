# The Debian package: install() rules for what an operator installs, and CPack's DEB generator.
# scripts/package.sh builds it (cpack -G DEB in a Release build); packaging/README.Debian says
# what goes where. Included at the end of the top-level CMakeLists.txt, so that every target
# exists (install(TARGETS) of a target made in another directory needs CMake 3.13).
#
# Layout: the binary under the install prefix (/usr in the package); the systemd unit and the
# files in /etc at absolute paths, where Debian wants them whatever the prefix.

include(GNUInstallDirs)

install(TARGETS tollgate RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(FILES ${PROJECT_SOURCE_DIR}/packaging/tollgate.service DESTINATION /lib/systemd/system)

# The example organisation as the starting configuration. 0640: it names people and who reviews
# what; postinst gives it the tollgate group. The environment file holds the secrets: root's, 0600.
install(FILES ${PROJECT_SOURCE_DIR}/examples/acme.json
        DESTINATION /etc/tollgate RENAME tollgate.json
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/tollgate.env
        DESTINATION /etc/tollgate
        PERMISSIONS OWNER_READ OWNER_WRITE)

install(FILES ${PROJECT_SOURCE_DIR}/packaging/README.Debian
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/tollgate)

set(CPACK_PACKAGE_NAME tollgate)
set(CPACK_PACKAGE_VENDOR "Tollgate")
set(CPACK_PACKAGE_CONTACT "Tollgate maintainers <tollgate@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Slack bot that governs access-change tasks")
# The extended description, in lines of at most 80 characters as Debian's control files want.
set(CPACK_PACKAGE_DESCRIPTION
    "Tollgate is a self-hosted, Slack-first bot for the access-change tasks of an
identity governance team: access requests reviewed in one or more steps, manual
provisioning, revocation proposals, manual deprovisioning, reassignment,
comments and bulk actions, kept in an embedded workflow engine on SQLite or
PostgreSQL with a hash-chained audit log. This package runs it as the systemd
service tollgate.service.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # tollgate_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The libraries' packages come from dpkg-shlibdeps (dpkg-dev, and file to find the ELF files),
# except libpq's and libcurl's: the binary loads them when first needed (base/shared_library.h),
# so they are named here. postinst makes the system user with adduser.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The versions: libpq's pipeline mode (14), curl_multi_wakeup and CURLOPT_PROTOCOLS_STR (7.85).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, libpq5 (>= 14), libcurl4 (>= 7.85.0)")
# CMake 3.25 marks nothing under /etc as a conffile by itself: the list is explicit.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
