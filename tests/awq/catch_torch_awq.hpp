#pragma once
// ATen pulls in glog, whose CHECK macro collides with Catch's: include ATen first, drop glog's
// CHECK, then Catch (same as tests/model/catch_torch.hpp).
#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>
#undef CHECK
#include <catch2/catch.hpp>
