# quantforge_add_plugin(NAME SOURCES...): a loadable module lib<NAME>_plugin.so exporting only the
# C entry symbol. Used in-tree and by third parties through find_package(QuantForgeSDK).
function(quantforge_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE QuantForgeSDK::sdk)
  set_target_properties(${name} PROPERTIES
    OUTPUT_NAME ${name}_plugin
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_compile_features(${name} PRIVATE cxx_std_17)
  if(DEFINED QF_PLUGIN_BUILD_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${QF_PLUGIN_BUILD_DIR})
  endif()
  # Unresolved symbols are a link error, not a dlopen surprise.
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
endfunction()
