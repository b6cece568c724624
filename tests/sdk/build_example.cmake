# Installs only the SDK component into a temporary prefix and builds sdk/examples/rtn against it.
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BINARY_DIR}/sdk --prefix ${WORK_DIR}/prefix
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "installing the SDK failed")
endif()
# Copy the example out of the tree so nothing but the installed package can be found.
file(COPY ${SOURCE_DIR}/sdk/examples/rtn DESTINATION ${WORK_DIR}/src)
execute_process(COMMAND ${CMAKE_COMMAND} -S ${WORK_DIR}/src/rtn -B ${WORK_DIR}/build
                        -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the example against the installed SDK failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the example against the installed SDK failed")
endif()
file(GLOB built ${WORK_DIR}/build/librtn_plugin.so)
if(NOT built)
  message(FATAL_ERROR "the example did not produce librtn_plugin.so")
endif()
message(STATUS "built ${built} against the installed SDK")
