#pragma once
// What `quantize` and `convert` share: the output and run options, and running one job with its
// log, interrupt handling and the all-or-nothing messages.
#include "cli_common.hpp"
#include "pipeline/quantize.hpp"

namespace qf::cli {

// --output, --overwrite, --no-resume, --threads, --log-file, --verbose.
void add_job_options(po::options_description& desc);
// Console logging before the job exists (plugin loading, recipe resolution).
void start_console_logging(const po::variables_map& vm);
// Fills request.output / overwrite / resume / cancel from the options.
void apply_job_options(const po::variables_map& vm, pipeline::QuantizeRequest& request);
// Plans, runs and commits the job; returns the exit code. Errors are logged, not thrown.
int run_job(const pipeline::QuantizeRequest& request, const host::PluginRegistry& registry,
            const po::variables_map& vm);

}  // namespace qf::cli
