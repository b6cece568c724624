#pragma once
// Damaged copies of the tests/data model fixtures, made at test time in a folder of their own: a
// config.json key changed, or one stored tensor replaced (another shape, NaN, huge values), written
// back with our own safetensors writer so the copy differs from the fixture in that one place.
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace qf::test {

// Copies tests/data/models/<fixture> into `dir` (created).
void copy_fixture(const std::string& fixture, const std::filesystem::path& dir);

// Rewrites dir/config.json after `edit` changed its JSON.
void edit_config(const std::filesystem::path& dir, const std::function<void(nlohmann::json&)>& edit);

// The stored tensor `name` (a copy, in its stored dtype).
at::Tensor read_tensor(const std::filesystem::path& dir, const std::string& name);

// Sets tensor `name` to `value` (any shape; bf16/f16/f32) in the safetensors file of dir that holds
// it, or in the first file (and the index, if any) for a new name; an undefined `value` removes it.
// Every other tensor and the file's metadata stay as they were.
void set_tensor(const std::filesystem::path& dir, const std::string& name, const at::Tensor& value);

}  // namespace qf::test
