#pragma once
// ATen pulls in glog, whose CHECK macro collides with Catch's: include ATen first, drop glog's
// CHECK, then Catch. Every model test includes this instead of catch.hpp directly.
#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>
#undef CHECK
#include <catch2/catch.hpp>
