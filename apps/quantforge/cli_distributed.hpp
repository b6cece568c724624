#pragma once
// The command line of data-parallel calibration: `quantize`'s --world-size / --rank / --master
// (or the launchers' environment variables), and `quantforge launch`, which starts the ranks of
// one machine.
#include "cli_common.hpp"
#include "distributed/options.hpp"

namespace qf::cli {

// --world-size, --rank, --master HOST:PORT, --dist-timeout SECONDS.
void add_distributed_options(po::options_description& desc);
// Flags first, else WORLD_SIZE / RANK / MASTER_ADDR / MASTER_PORT (torchrun, a Kubernetes Job's
// spec), else Slurm's SLURM_NTASKS / SLURM_PROCID (srun), else Kubernetes' JOB_COMPLETION_INDEX
// for the rank. UsageError for values that are not numbers or out of range.
dist::DistributedOptions distributed_options(const po::variables_map& vm);

// `quantforge launch -n N [--port P] -- quantize MODEL ...`
int run_launch(const std::vector<std::string>& args);

}  // namespace qf::cli
