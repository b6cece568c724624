#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <fstream>
#include <limits>
#include <map>
#include <regex>
#include <stdexcept>

#include "gguf_vocab.hpp"

namespace qf::gguf {
namespace {

constexpr float kAddedScore = -1000.0f;    // what the converter gives added tokens
constexpr float kUnusedScore = -10000.0f;  // and ids no file names

// Replaces every "▁" (U+2581) by a space: user-defined added tokens are matched against raw text.
std::string spaces_for_metaspace(std::string text) {
  const std::string meta = "\xE2\x96\x81";
  for (size_t at = text.find(meta); at != std::string::npos; at = text.find(meta, at)) text.replace(at, meta.size(), " ");
  return text;
}

void set_added(Vocabulary& v, int64_t id, const std::string& text, bool special) {
  if (id < 0 || id >= static_cast<int64_t>(v.tokens.size())) return;  // beyond the model's vocabulary
  const auto i = static_cast<size_t>(id);
  const bool control = special || looks_special(text);
  v.tokens[i] = control ? text : spaces_for_metaspace(text);
  v.types[i] = control ? kControl : kUserDefined;
  v.scores[i] = kAddedScore;
}

Vocabulary unused_vocab(int64_t n) {
  Vocabulary v;
  v.model = "llama";
  v.tokens.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v.tokens[static_cast<size_t>(i)] = "[PAD" + std::to_string(i) + "]";
  v.types.assign(static_cast<size_t>(n), kUnused);
  v.scores.assign(static_cast<size_t>(n), kUnusedScore);
  return v;
}

bool is_byte_token(const std::string& t) {
  static const std::regex byte("<0x[0-9A-Fa-f]{2}>");
  return std::regex_match(t, byte);
}


// One entry of a SentencePiece model's piece table.
struct Piece {
  std::string text;
  float score = 0.0f;
  int32_t type = kNormal;  // SentencePiece's piece types are numbered as llama.cpp's token types
};

// The piece table of a SentencePiece model file (the protocol-buffer message ModelProto: field 1 holds
// the pieces, each with its text in field 1, score (float) in 2 and type (enum) in 3; field 3 holds the
// normalizer settings; every other field is skipped). The wire format is read with protobuf's own stream reader; the SentencePiece library is
// not used because Debian's build carries a private protobuf that clashes with LibTorch's in one process.
std::vector<Piece> read_sentencepiece_model(const std::filesystem::path& file) {
  using google::protobuf::internal::WireFormatLite;
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::invalid_argument("cannot read " + file.string());
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto bad = [&](const char* what) {
    return std::invalid_argument(file.string() + " is not a SentencePiece model (" + what + ")");
  };
  google::protobuf::io::CodedInputStream stream(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
  std::vector<Piece> pieces;
  bool normalizer_spec = false;
  for (uint32_t tag = stream.ReadTag(); tag != 0; tag = stream.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) != 1 ||
        WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      normalizer_spec = normalizer_spec || WireFormatLite::GetTagFieldNumber(tag) == 3;
      if (!WireFormatLite::SkipField(&stream, tag)) throw bad("a damaged field");
      continue;
    }
    uint32_t length = 0;
    // The limit is clipped to the data, so a piece that runs past the end must be caught here.
    if (!stream.ReadVarint32(&length) || static_cast<int64_t>(length) > stream.BytesUntilLimit()) throw bad("cut short");
    const auto limit = stream.PushLimit(static_cast<int>(length));
    Piece p;
    for (uint32_t t = stream.ReadTag(); t != 0; t = stream.ReadTag()) {
      const int field = WireFormatLite::GetTagFieldNumber(t);
      const auto wire = WireFormatLite::GetTagWireType(t);
      bool ok = true;
      if (field == 1 && wire == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
        uint32_t n = 0;
        ok = stream.ReadVarint32(&n) && stream.ReadString(&p.text, static_cast<int>(n));
      } else if (field == 2 && wire == WireFormatLite::WIRETYPE_FIXED32) {
        uint32_t raw = 0;
        ok = stream.ReadLittleEndian32(&raw);
        p.score = WireFormatLite::DecodeFloat(raw);
      } else if (field == 3 && wire == WireFormatLite::WIRETYPE_VARINT) {
        uint32_t type = 0;
        ok = stream.ReadVarint32(&type);
        p.type = static_cast<int32_t>(type);
      } else {
        ok = WireFormatLite::SkipField(&stream, t);
      }
      if (!ok) throw bad("a damaged piece");
    }
    if (stream.BytesUntilLimit() != 0) throw bad("cut short");
    stream.PopLimit(limit);
    if (p.type < kNormal || p.type > kByte) throw bad(("piece type " + std::to_string(p.type)).c_str());
    pieces.push_back(std::move(p));
  }
  if (!stream.ConsumedEntireMessage() || stream.CurrentPosition() != static_cast<int>(bytes.size()))
    throw bad("damaged data");
  if (pieces.empty()) throw bad("no pieces");
  // SentencePiece always writes its normalizer settings (field 3) after the pieces; without them the
  // file was most likely cut off between two pieces.
  if (!normalizer_spec) throw bad("no normalizer settings: cut short?");
  return pieces;
}

}  // namespace

bool is_sentencepiece_bpe(const nlohmann::json& tok) {
  if (!tok.contains("model") || !tok["model"].is_object()) return false;
  const nlohmann::json& model = tok["model"];
  return model.value("type", "") == "BPE" && model.value("byte_fallback", false);
}

Vocabulary sentencepiece_vocab_from_model(const std::filesystem::path& model_file, const std::filesystem::path& dir,
                                          const nlohmann::json& cfg, int64_t vocab_size) {
  const std::vector<Piece> pieces = read_sentencepiece_model(model_file);
  Vocabulary v = unused_vocab(vocab_size > 0 ? vocab_size : static_cast<int64_t>(pieces.size()));
  for (size_t i = 0; i < pieces.size() && i < v.tokens.size(); ++i) {
    v.tokens[i] = pieces[i].text;
    v.scores[i] = pieces[i].score;
    // The converter's reading of SentencePiece's types: user-defined pieces count as normal tokens.
    v.types[i] = pieces[i].type == kUserDefined ? kNormal : pieces[i].type;
  }
  if (std::ifstream in(dir / "added_tokens.json"); in) {
    nlohmann::json added;
    try {
      added = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw std::invalid_argument((dir / "added_tokens.json").string() + " is not valid JSON: " + e.what());
    }
    for (const auto& [text, id] : added.items()) {  // taken as written: user-defined, no "▁" translation
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= static_cast<int64_t>(v.tokens.size()))
        continue;
      const auto i = static_cast<size_t>(id.get<int64_t>());
      v.tokens[i] = text;
      v.types[i] = kUserDefined;
      v.scores[i] = kAddedScore;
    }
  }
  if (cfg.is_object() && cfg.contains("added_tokens_decoder") && cfg["added_tokens_decoder"].is_object())
    for (const auto& [key, data] : cfg["added_tokens_decoder"].items()) {
      int64_t id = -1;
      try {
        id = std::stoll(key);
      } catch (const std::exception&) {
        throw std::invalid_argument("tokenizer_config.json: added_tokens_decoder key \"" + key + "\" is not an id");
      }
      set_added(v, id, data.value("content", ""), data.value("special", false));
    }
  return v;
}

Vocabulary sentencepiece_vocab_from_json(const nlohmann::json& tok, int64_t vocab_size) {
  const nlohmann::json& model = tok["model"];
  int64_t n = std::max<int64_t>(vocab_size, static_cast<int64_t>(model["vocab"].size()));
  for (const auto& a : tok.value("added_tokens", nlohmann::json::array())) n = std::max(n, a.value("id", int64_t{-1}) + 1);
  Vocabulary v = unused_vocab(n);

  const nlohmann::json merges = model.value("merges", nlohmann::json::array());
  std::map<std::string, size_t> first_rank;  // token -> rank of the first merge forming it
  for (size_t r = 0; r < merges.size(); ++r) {
    const auto [first, second] = merge_parts(merges[r]);
    first_rank.emplace(first + second, r);
  }
  const auto formed_after_all_merges = static_cast<float>(merges.size());

  for (const auto& [text, id] : model["vocab"].items()) {
    const int64_t i = id.get<int64_t>();
    if (i < 0 || i >= n) continue;
    const auto at = static_cast<size_t>(i);
    v.tokens[at] = text;
    if (is_byte_token(text)) {
      v.types[at] = kByte;
      v.scores[at] = 0.0f;
    } else if (const auto rank = first_rank.find(text); rank != first_rank.end()) {
      v.types[at] = kNormal;
      v.scores[at] = -static_cast<float>(rank->second);
    } else {
      v.types[at] = kNormal;  // a single character (or a piece no merge reaches): below every merged token
      v.scores[at] = -(formed_after_all_merges + static_cast<float>(i));
    }
  }
  const std::string unk = model.value("unk_token", nlohmann::json()).is_string() ? model["unk_token"].get<std::string>() : "";
  if (!unk.empty() && model["vocab"].contains(unk)) {
    const auto at = static_cast<size_t>(model["vocab"][unk].get<int64_t>());
    if (at < v.tokens.size()) {
      v.types[at] = kUnknown;
      v.scores[at] = 0.0f;
    }
  }
  for (const auto& a : tok.value("added_tokens", nlohmann::json::array()))
    set_added(v, a.value("id", int64_t{-1}), a.value("content", ""), a.value("special", false));
  return v;
}

}  // namespace qf::gguf
