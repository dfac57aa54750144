# What `cmake --install` and the Debian package (scripts/package, CPack) contain: the binary
# (stripped by --strip / CPACK_STRIP_FILES; the /docs web assets are inside it), the man pages,
# shell completions generated from the binary's own command tree, and the license.
include(GNUInstallDirs)

# `install` must not build everything first (the unit-test binary is most of a build): the
# scripts build what they install (scripts/package: pxt, whose link writes the completions).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)

# The completions are written by the binary itself each time it is linked, so they always match
# its commands (and a `ninja pxt` is enough to package).
set(pxt_completion_dir ${CMAKE_BINARY_DIR}/completions)
add_custom_command(TARGET pxt POST_BUILD
  COMMAND ${CMAKE_COMMAND} -E make_directory ${pxt_completion_dir}
  COMMAND sh -c "\"$1\" completion bash > \"$2/pxt\" && \"$1\" completion zsh > \"$2/_pxt\" && \"$1\" completion fish > \"$2/pxt.fish\""
          sh $<TARGET_FILE:pxt> ${pxt_completion_dir}
  VERBATIM)

install(TARGETS pxt RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES man/pxt.1 man/pxt-serve.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${pxt_completion_dir}/pxt DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES ${pxt_completion_dir}/_pxt DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES ${pxt_completion_dir}/pxt.fish DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/pxt RENAME copyright)
install(FILES README.md CHANGELOG.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/pxt)

# The Debian package. Depends: dpkg-shlibdeps lists the libraries the binary links
# (CPACK_DEBIAN_PACKAGE_SHLIBDEPS); scripts/package adds the ones it loads with dlopen on first
# use, read from `pxt --json version` and resolved to their packages with dpkg, by passing
# -D CPACK_DEBIAN_PACKAGE_DEPENDS=... to cpack.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pxt)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "pxt")
set(CPACK_PACKAGE_CONTACT "pxt developers <pxt@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "tables with computed columns and named queries, served as HTTP endpoints")
set(CPACK_PACKAGE_DESCRIPTION "A native, single-binary reimplementation of Pixeltable's `pxt serve`:
tables with computed columns and named queries in an embedded store, served as a JSON API
described by TOML service files, with OpenAPI docs served offline.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_SOURCE_DIR}/LICENSE)
include(CPack)
