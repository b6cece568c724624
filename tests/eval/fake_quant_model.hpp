#pragma once
// Quantized copies of the bundled tiny-llama written the way our (and the reference) tools store
// them, from the RTN fake quantization of tests/data/goldens/perplexity.json ("rtn_formulas": the
// GPTQ Quantizer per row and group of 128 input columns, q from the fp32 scale, scale stored as fp16).
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>
#include <vector>

namespace qf::test {

extern const std::filesystem::path kData;  // QF_TEST_DATA_DIR
std::filesystem::path tiny_llama_dir();

struct RtnParams {
  at::Tensor q;      // [out, in] codes (float holding integers)
  at::Tensor scale;  // [out, ngroups] fp32
  at::Tensor zero;   // [out, ngroups] fp32 integers
};

// perplexity.json "rtn_formulas" on W [out, in] (fp32), groups of 128 input columns.
RtnParams rtn_quantize(const at::Tensor& w, int bits, bool sym, int64_t group = 128);

enum class Packing { GptqV1, GptqV2, AwqGemm };

// Writes a copy of tiny-llama into `dir` with every decoder Linear packed:
//  GptqV1 / GptqV2: model.safetensors + config.json with quantization_config (or, when
//    `config_in_file`, a quantize_config.json and the original config.json); g_idx stored.
//  AwqGemm: the in-place layout: the original config.json, model-AWQ.safetensors,
//    model-AWQ.safetensors.index.json and an AutoAWQ-style quant_config-AWQ.json.
// Tokenizer files are copied. Returns the number of groups with min < 0 < max / all groups.
std::pair<int64_t, int64_t> write_fake_quant_model(const std::filesystem::path& dir, int bits, bool sym, Packing packing,
                                                   bool config_in_file = false);

// The tokens of tests/data/text/heldout.txt (add_special_tokens = false), computed once.
const std::vector<int32_t>& heldout_tokens();

}  // namespace qf::test
