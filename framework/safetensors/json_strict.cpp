#include "safetensors/json_strict.hpp"

#include <set>
#include <vector>

#include "common/error.hpp"

namespace qf::st::detail {
namespace {

// Valid headers and indexes nest 3 levels; the cap keeps hostile input from building huge trees.
constexpr int kMaxDepth = 64;

// Thrown from inside the parser callback (nlohmann lets it propagate) and turned into qf::Error.
struct Reject {
  std::string message;
};

}  // namespace

nlohmann::json parse_json_strict(std::string_view text, const std::string& what) {
  struct Frame {
    std::string owner;  // the key this object is the value of, for messages
    std::string last_key;
    std::set<std::string> keys;
  };
  std::vector<Frame> frames;  // one per open object
  auto callback = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if ((event == E::object_start || event == E::array_start) && depth >= kMaxDepth)
      throw Reject{"nesting deeper than " + std::to_string(kMaxDepth) + " levels"};
    if (event == E::object_start) frames.push_back({frames.empty() ? "" : frames.back().last_key, {}, {}});
    if (event == E::object_end && !frames.empty()) frames.pop_back();
    if (event == E::key && !frames.empty()) {
      Frame& f = frames.back();
      f.last_key = parsed.get<std::string>();
      if (!f.keys.insert(f.last_key).second)
        throw Reject{"duplicate key \"" + f.last_key + "\"" + (f.owner.empty() ? "" : " in \"" + f.owner + "\"")};
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), callback);
  } catch (const Reject& r) {
    throw Error(what + ": " + r.message);
  } catch (const nlohmann::json::exception& e) {
    throw Error(what + " is not valid JSON: " + e.what());
  }
}

}  // namespace qf::st::detail
