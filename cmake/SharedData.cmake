# Read-only files the executable finds relative to its own location: <prefix>/share/quantforge/...
# when installed. The build tree mirrors that layout (build/share/quantforge/..., symbolic links to
# the sources) so build/bin/quantforge finds them the same way and no binary carries a source path.
set(QF_BUILD_SHARE_DIR ${CMAKE_BINARY_DIR}/share/quantforge)

# qf_install_shared(DESTINATION <folder under share/quantforge> FILES <source files>...): installs
# the files there and links each into the build tree's share/quantforge at the same place.
function(qf_install_shared)
  cmake_parse_arguments(S "" "DESTINATION" "FILES" ${ARGN})
  install(FILES ${S_FILES} DESTINATION ${CMAKE_INSTALL_DATADIR}/quantforge/${S_DESTINATION})
  file(MAKE_DIRECTORY ${QF_BUILD_SHARE_DIR}/${S_DESTINATION})
  foreach(f IN LISTS S_FILES)
    get_filename_component(name ${f} NAME)
    file(REMOVE ${QF_BUILD_SHARE_DIR}/${S_DESTINATION}/${name})
    file(CREATE_LINK ${f} ${QF_BUILD_SHARE_DIR}/${S_DESTINATION}/${name} SYMBOLIC)
  endforeach()
endfunction()
