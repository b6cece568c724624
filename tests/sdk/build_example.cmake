# Installs only the SDK component into a temporary prefix and builds the examples against it: the
# RTN method (sdk/examples/rtn) and the npy_dir format (sdk/examples/npy_dir).
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BINARY_DIR}/sdk --prefix ${WORK_DIR}/prefix
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "installing the SDK failed")
endif()
foreach(example rtn npy_dir)
  # Copy the example out of the tree so nothing but the installed package can be found.
  file(COPY ${SOURCE_DIR}/sdk/examples/${example} DESTINATION ${WORK_DIR}/src)
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${WORK_DIR}/src/${example} -B ${WORK_DIR}/build-${example}
                          -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "configuring the ${example} example against the installed SDK failed")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build-${example} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "building the ${example} example against the installed SDK failed")
  endif()
  file(GLOB built ${WORK_DIR}/build-${example}/lib${example}_plugin.so)
  if(NOT built)
    message(FATAL_ERROR "the ${example} example did not produce lib${example}_plugin.so")
  endif()
  message(STATUS "built ${built} against the installed SDK")
endforeach()
# The installed copy of the example sources must be complete too (what users build from).
foreach(f rtn/rtn_plugin.cpp npy_dir/npy_dir_plugin.cpp npy_dir/npy_file.hpp)
  if(NOT EXISTS ${WORK_DIR}/prefix/share/quantforge/examples/${f})
    message(FATAL_ERROR "the installed SDK lacks examples/${f}")
  endif()
endforeach()
# The npy_dir plugin built out of tree loads and writes what it should (the in-tree test, pointed at it).
if(DEFINED FORMAT_TEST)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env QF_NPY_DIR_PLUGIN=${WORK_DIR}/build-npy_dir/libnpy_dir_plugin.so
                          ${FORMAT_TEST} [npy] RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the npy_dir plugin built against the installed SDK failed its test")
  endif()
endif()
