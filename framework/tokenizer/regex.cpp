#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex.hpp"

#include <pcre2.h>

#include <stdexcept>

#include "tokenizer/utf8.hpp"

namespace qf::tok {

namespace {

// One JIT stack per thread, big enough for long runs of whitespace or letters.
pcre2_jit_stack* thread_jit_stack(void*) {
  struct Holder {
    pcre2_jit_stack* stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
    ~Holder() { pcre2_jit_stack_free(stack); }
  };
  thread_local Holder holder;
  return holder.stack;
}

struct MatchContext {
  pcre2_match_context* ctx = nullptr;
  MatchContext() {
    ctx = pcre2_match_context_create(nullptr);
    pcre2_jit_stack_assign(ctx, thread_jit_stack, nullptr);
  }
  ~MatchContext() { pcre2_match_context_free(ctx); }
};

pcre2_match_context* match_context() {
  static MatchContext mc;
  return mc.ctx;
}

struct MatchData {
  pcre2_match_data* md;
  explicit MatchData(const pcre2_code* code) : md(pcre2_match_data_create_from_pattern(code, nullptr)) {}
  ~MatchData() { pcre2_match_data_free(md); }
  MatchData(const MatchData&) = delete;
  MatchData& operator=(const MatchData&) = delete;
};

}  // namespace

Regex::Regex(const std::string& pattern, bool literal) : pattern_(pattern) {
  int err = 0;
  PCRE2_SIZE erroff = 0;
  // PCRE2_LITERAL allows PCRE2_UTF but not PCRE2_UCP (which has no meaning for a literal).
  const uint32_t opts = literal ? (PCRE2_UTF | PCRE2_LITERAL) : (PCRE2_UTF | PCRE2_UCP);
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), opts, &err,
                                   &erroff, nullptr);
  if (!code) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof buf);
    throw std::runtime_error("invalid regex /" + pattern + "/ at offset " + std::to_string(erroff) + ": " +
                             reinterpret_cast<const char*>(buf));
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if JIT is unavailable
  code_ = code;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

bool Regex::search(std::string_view subject, std::size_t from, Span& m, void* match_data) const {
  auto* md = static_cast<pcre2_match_data*>(match_data);
  const int rc = pcre2_match(static_cast<const pcre2_code*>(code_), reinterpret_cast<PCRE2_SPTR>(subject.data()),
                             subject.size(), from, PCRE2_NO_UTF_CHECK, md, match_context());
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(rc, buf, sizeof buf);
    throw std::runtime_error("regex /" + pattern_ + "/ failed: " + reinterpret_cast<const char*>(buf));
  }
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
  m = {ov[0], ov[1]};
  return true;
}

void Regex::find_all(std::string_view subject, std::vector<Span>& out) const {
  out.clear();
  MatchData data(static_cast<const pcre2_code*>(code_));
  std::size_t last_end = 0;
  bool have_last = false;
  std::size_t last_match_end = 0;
  while (last_end <= subject.size()) {
    Span m;
    if (!search(subject, last_end, m, data.md)) break;
    if (m.first == m.second && have_last && last_match_end == m.second) {
      // Oniguruma's find_iter: no empty match right after the previous match; step one char.
      last_end += last_end < subject.size() ? utf8::char_len(static_cast<unsigned char>(subject[last_end])) : 1;
      continue;
    }
    last_end = m.second;
    last_match_end = m.second;
    have_last = true;
    out.push_back(m);
  }
}

long Regex::match_prefix(std::string_view subject) const {
  MatchData data(static_cast<const pcre2_code*>(code_));
  const int rc = pcre2_match(static_cast<const pcre2_code*>(code_), reinterpret_cast<PCRE2_SPTR>(subject.data()),
                             subject.size(), 0, PCRE2_NO_UTF_CHECK | PCRE2_ANCHORED, data.md, match_context());
  if (rc < 0) return -1;
  return static_cast<long>(pcre2_get_ovector_pointer(data.md)[1]);
}

bool is_whitespace_char(std::string_view ch) {
  static const Regex re("\\p{White_Space}");
  return re.match_prefix(ch) > 0;
}

bool is_alphanumeric_char(std::string_view ch) {
  static const Regex re("[\\p{Alphabetic}\\p{N}]");
  return re.match_prefix(ch) > 0;
}

}  // namespace qf::tok
