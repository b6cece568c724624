#pragma once
// The process-wide services every plugin receives at init (logging, aligned allocation).
#include "quantforge/plugin.h"

namespace qf::host {

const qf_host_api* host_api();

}  // namespace qf::host
