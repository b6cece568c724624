#include "host/plugin_registry.hpp"

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cstddef>
#include <cstdlib>
#include <regex>
#include <sstream>

#include "common/error.hpp"
#include "host/host_api.hpp"
#include "host/library_file.hpp"
#include "host/plugin_log.hpp"
#include "quantforge/struct_copy.hpp"

namespace fs = std::filesystem;

namespace qf::host {
namespace {

// The fields every ABI version has at the same offsets; read before anything else.
constexpr size_t kVersionFieldsEnd = offsetof(qf_plugin_descriptor, abi_minor) + sizeof(uint32_t);

std::string text_or_empty(const char* s) { return s ? std::string(s) : std::string(); }

constexpr const char* kFilePrefix = "lib";
constexpr const char* kFileSuffix = "_plugin.so";

bool looks_like_plugin_file(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.rfind(kFilePrefix, 0) == 0 && name.size() > 13 && name.substr(name.size() - 10) == kFileSuffix;
}

void validate_descriptor(const qf_plugin_descriptor* d, const fs::path& file) {
  if (d == nullptr) throw PluginLoadError(file, "the entry function returned no descriptor");
  if (d->struct_size < kVersionFieldsEnd)
    throw PluginLoadError(file, "descriptor is too small to carry an ABI version");
  if (d->abi_major != QF_ABI_VERSION_MAJOR) {
    std::ostringstream os;
    os << "plugin ABI major version " << d->abi_major << " does not match the host's " << QF_ABI_VERSION_MAJOR
       << " (plugin ABI " << d->abi_major << "." << d->abi_minor << ", host ABI " << QF_ABI_VERSION_MAJOR << "."
       << QF_ABI_VERSION_MINOR << "); rebuild the plugin against this SDK";
    throw PluginLoadError(file, os.str());
  }
  if (d->struct_size < offsetof(qf_plugin_descriptor, get_interface) + sizeof(void*))
    throw PluginLoadError(file,
                          "descriptor struct_size " + std::to_string(d->struct_size) + " is smaller than ABI 1.0's");
  if (d->name == nullptr || !std::regex_match(d->name, std::regex("[a-z0-9_]+")))
    throw PluginLoadError(file, "plugin name must be non-empty [a-z0-9_]+, got '" + text_or_empty(d->name) + "'");
  if (d->kind != QF_KIND_METHOD && d->kind != QF_KIND_FORMAT)
    throw PluginLoadError(file, "plugin '" + std::string(d->name) + "' has unknown kind " + std::to_string(d->kind));
  if (d->init == nullptr || d->deinit == nullptr || d->get_interface == nullptr)
    throw PluginLoadError(file, "plugin '" + std::string(d->name) + "' leaves init, deinit or get_interface empty");
  if (d->option_count > 0 && d->options == nullptr && !QF_HAS_FIELD(d, qf_plugin_descriptor, get_option))
    throw PluginLoadError(file, "plugin '" + std::string(d->name) + "' declares options but gives no table");
}

// Option `i`: through get_option (1.2 on, so the struct can grow), else from the 1.0 array.
qf_option_desc option_at(const qf_plugin_descriptor* d, uint32_t i, const fs::path& file) {
  qf_option_desc o{};
  o.struct_size = sizeof(o);
  if (QF_HAS_FIELD(d, qf_plugin_descriptor, get_option)) {
    qf_error err{};
    int32_t status = QF_ERR_INTERNAL;
    try {
      const std::string plugin_name = d->name;
      const PluginCallScope scope(plugin_name);  // its old-style log lines name it
      status = d->get_option(i, &o, &err);
    } catch (...) {
      throw PluginLoadError(file, "plugin '" + std::string(d->name) + "' threw an exception out of get_option");
    }
    err.message[QF_ERROR_MESSAGE_CAPACITY - 1] = '\0';
    if (status != QF_OK)
      throw PluginLoadError(file, "plugin '" + std::string(d->name) + "' cannot describe its option #" +
                                      std::to_string(i) + ": " + err.message);
    return o;
  }
  if (d->options == nullptr) throw PluginLoadError(file, "plugin '" + std::string(d->name) + "' has options but no option array");
  const qf_option_desc_1_0& legacy = d->options[i];  // frozen 1.0 layout: the array's stride never changes
  o.name = legacy.name;
  o.type = legacy.type;
  o.default_value = legacy.default_value;
  o.help = legacy.help;
  return o;
}

std::vector<OptionSpec> read_options(const qf_plugin_descriptor* d, const fs::path& file) {
  std::vector<OptionSpec> out;
  for (uint32_t i = 0; i < d->option_count; ++i) {
    const qf_option_desc o = option_at(d, i, file);
    if (o.name == nullptr || o.type < QF_OPTION_BOOL || o.type > QF_OPTION_STRING)
      throw PluginLoadError(file,
                            "plugin '" + std::string(d->name) + "' option #" + std::to_string(i) + " is malformed");
    out.push_back(OptionSpec{o.name, static_cast<qf_option_type>(o.type), text_or_empty(o.default_value),
                             text_or_empty(o.help)});
  }
  return out;
}

// The interface table must carry every function of ABI 1.0.
bool complete_1_0(const void* table, int32_t kind) {
  if (kind == QF_KIND_METHOD) {
    const auto* m = static_cast<const qf_method_vtable*>(table);
    return m->struct_size >= QF_SIZE_METHOD_VTABLE_1_0 && m->create && m->requirements && m->quantize_layer &&
           m->finish && m->destroy;
  }
  const auto* f = static_cast<const qf_format_vtable*>(table);
  return f->struct_size >= QF_SIZE_FORMAT_VTABLE_1_0 && f->create && f->add_tensor && f->add_shard && f->finish &&
         f->destroy;
}

}  // namespace

const char* kind_name(int32_t kind) {
  switch (kind) {
    case QF_KIND_METHOD: return "method";
    case QF_KIND_FORMAT: return "format";
    default: return "unknown";
  }
}

const char* option_type_name(int32_t type) {
  switch (type) {
    case QF_OPTION_BOOL: return "bool";
    case QF_OPTION_INT: return "int";
    case QF_OPTION_FLOAT: return "float";
    case QF_OPTION_STRING: return "string";
    default: return "unknown";
  }
}

Plugin::Plugin(std::shared_ptr<boost::dll::shared_library> library, const qf_plugin_descriptor* descriptor,
               fs::path path)
    : library_(std::move(library)),
      descriptor_(descriptor),
      path_(std::move(path)),
      name_(descriptor->name),
      host_(std::make_unique<PluginHostApi>(name_)) {
  options_ = read_options(descriptor_, path_);
  const char* id = descriptor_->kind == QF_KIND_METHOD ? QF_METHOD_INTERFACE_ID : QF_FORMAT_INTERFACE_ID;
  qf_error err{};
  int32_t status = QF_ERR_INTERNAL;
  try {
    const PluginCallScope scope(name_);
    status = descriptor_->init(host_->table(), &err);
  } catch (...) {
    throw PluginLoadError(path_, "plugin '" + name_ + "' threw an exception out of init (a bug in the plugin)");
  }
  err.message[QF_ERROR_MESSAGE_CAPACITY - 1] = '\0';
  if (status != QF_OK) throw PluginLoadError(path_, "plugin '" + name_ + "' failed to initialise: " + err.message);
  const PluginCallScope scope(name_);  // the plugin's old-style log lines name it
  try {
    interface_ = descriptor_->get_interface(id);
  } catch (...) {
    interface_ = nullptr;  // reported below as a missing interface, after deinit
  }
  if (interface_ == nullptr) {
    deinit_quietly();
    throw PluginLoadError(path_, std::string(kind_name(kind())) + " plugin '" + name_ + "' does not provide " + id);
  }
  if (!complete_1_0(interface_, kind())) {
    deinit_quietly();
    throw PluginLoadError(path_, std::string(kind_name(kind())) + " plugin '" + name_ + "': its " + id +
                                     " table is smaller than ABI 1.0's or leaves a function empty");
  }
}

Plugin::~Plugin() { deinit_quietly(); }

void Plugin::deinit_quietly() noexcept {
  try {
    const PluginCallScope scope(name_);
    descriptor_->deinit();
  } catch (...) {
    // Nothing useful to do: the library is going away.
  }
}

std::string Plugin::version() const { return text_or_empty(descriptor_->version); }
std::string Plugin::description() const { return text_or_empty(descriptor_->description); }

const OptionSpec* Plugin::option(const std::string& option_name) const {
  for (const auto& o : options_)
    if (o.name == option_name) return &o;
  return nullptr;
}

const qf_method_vtable* Plugin::method() const {
  return kind() == QF_KIND_METHOD ? static_cast<const qf_method_vtable*>(interface_) : nullptr;
}
const qf_format_vtable* Plugin::format() const {
  return kind() == QF_KIND_FORMAT ? static_cast<const qf_format_vtable*>(interface_) : nullptr;
}

std::vector<fs::path> PluginRegistry::search_path(const std::vector<fs::path>& explicit_dirs) {
  std::vector<fs::path> dirs = explicit_dirs;
  if (const char* env = std::getenv("QUANTFORGE_PLUGIN_PATH")) {
    std::stringstream ss(env);
    std::string item;
    while (std::getline(ss, item, ':'))
      if (!item.empty()) dirs.emplace_back(item);
  }
  const fs::path exe_dir = boost::dll::program_location().parent_path().string();
  dirs.push_back(exe_dir.parent_path() / "plugins");    // build tree: build/bin/quantforge -> build/plugins
  dirs.push_back(exe_dir.parent_path() / "lib" / "quantforge" / "plugins");  // installed prefix
  return dirs;
}

void PluginRegistry::load_directories(const std::vector<fs::path>& dirs) {
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
      if (looks_like_plugin_file(it->path())) files.push_back(it->path());
    if (ec) {
      failures_.push_back({dir, "cannot list this plugin folder (" + ec.message() + ")"});
      continue;
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      // The same library reached twice through different search dirs is not a duplicate.
      bool already = false;
      for (const auto& [n, p] : plugins_) already = already || fs::equivalent(p->path(), f, ec);
      for (const auto& failed : failures_) already = already || fs::equivalent(failed.file, f, ec);
      if (already) continue;
      try {
        load_file(f);
      } catch (const PluginLoadError& e) {
        failures_.push_back({e.file(), e.reason()});
      }
    }
  }
}

std::shared_ptr<const Plugin> PluginRegistry::load_file(const fs::path& file) {
  // Boost.DLL reports every failed load as "Bad file descriptor": say what is wrong instead.
  if (const std::string why = why_not_a_shared_library(file); !why.empty()) throw PluginLoadError(file, why);
  auto library = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code ec;
  library->load(file.string(), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec) throw PluginLoadError(file, dlopen_failure(file));
  if (!library->has(QF_PLUGIN_ENTRY_NAME))
    throw PluginLoadError(file, "missing the entry symbol '" QF_PLUGIN_ENTRY_NAME
                                "' (not a QuantForge plugin, or built without QF_DEFINE_*_PLUGIN)");
  auto entry = library->get<const qf_plugin_descriptor*()>(QF_PLUGIN_ENTRY_NAME);
  const qf_plugin_descriptor* descriptor = nullptr;
  try {
    descriptor = entry();
  } catch (...) {
    throw PluginLoadError(file, "the entry function threw an exception (a bug in the plugin)");
  }
  validate_descriptor(descriptor, file);
  if (auto existing = plugins_.find(descriptor->name); existing != plugins_.end())
    throw PluginLoadError(file, "duplicate plugin name '" + std::string(descriptor->name) + "', already loaded from " +
                                    existing->second->path().string());
  auto plugin = std::make_shared<const Plugin>(std::move(library), descriptor, file);
  plugins_[plugin->name()] = plugin;
  return plugin;
}

std::shared_ptr<const Plugin> PluginRegistry::find(const std::string& plugin_name) const {
  auto it = plugins_.find(plugin_name);
  return it == plugins_.end() ? nullptr : it->second;
}

const PluginLoadFailure* PluginRegistry::failure_for(const std::string& plugin_name) const {
  const std::string file_name = kFilePrefix + plugin_name + kFileSuffix;
  for (const auto& f : failures_)
    if (f.file.filename() == file_name) return &f;
  return nullptr;
}

std::vector<std::shared_ptr<const Plugin>> PluginRegistry::plugins() const {
  std::vector<std::shared_ptr<const Plugin>> out;
  for (const auto& [n, p] : plugins_) out.push_back(p);
  return out;
}

}  // namespace qf::host
