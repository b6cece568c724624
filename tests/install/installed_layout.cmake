# Installs the build into a temporary prefix and runs the installed quantforge with no
# QUANTFORGE_* variable set: every file it reports using must come from that prefix, not from the
# build or source tree.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${prefix}
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BINARY_DIR} --prefix ${prefix} failed")
endif()
set(qf ${prefix}/bin/quantforge)
set(clean_env ${CMAKE_COMMAND} -E env --unset=QUANTFORGE_DATA_DIR --unset=QUANTFORGE_CONFIG_DIR
              --unset=QUANTFORGE_PLUGIN_PATH)

# run_installed(<name> args...): runs the installed binary, fails the test on a non-zero exit;
# stdout and stderr together end up in ${name}.
function(run_installed name)
  execute_process(COMMAND ${clean_env} ${qf} ${ARGN} WORKING_DIRECTORY ${WORK_DIR}
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "installed quantforge ${ARGN} exited ${rc}:\n${out}${err}")
  endif()
  set(${name} "${out}${err}" PARENT_SCOPE)
endfunction()

# require(<text> <needle> <what>): the output must contain needle.
function(require text needle what)
  string(FIND "${text}" "${needle}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${what}: expected \"${needle}\" in:\n${text}")
  endif()
endfunction()

# Plugins from <prefix>/lib/quantforge/plugins (RTN at least; AWQ and GPTQ when built).
run_installed(plugins plugins list)
require("${plugins}" "rtn" "plugins list")
string(FIND "${plugins}" "failed to load" failed)
if(NOT failed EQUAL -1)
  message(FATAL_ERROR "an installed plugin failed to load:\n${plugins}")
endif()

# Built-in recipes from <prefix>/share/quantforge/configs.
run_installed(recipe recipe show --recipe rtn)
require("${recipe}" "${prefix}/share/quantforge/configs/rtn.toml" "recipe show --recipe rtn")

# Bundled data from <prefix>/share/quantforge/data.
run_installed(eval eval ${TEST_DATA_DIR}/models/tiny-llama --dataset bundled --seqlen 32 --max-windows 1 --threads 1)
require("${eval}" "${prefix}/share/quantforge/data/calibration/public-domain.txt" "eval --dataset bundled")
message(STATUS "the installed quantforge in ${prefix} found its plugins, recipes and data")
