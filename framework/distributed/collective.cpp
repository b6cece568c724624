#include "distributed/collective.hpp"

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>

#include "common/error.hpp"

namespace qf::dist {
namespace {

// c10::Error's what() carries a C++ backtrace: users get the message alone.
std::string message_of(const std::exception& e) {
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) return c10->what_without_backtrace();
  return e.what();
}

std::string seconds(std::chrono::milliseconds t) { return std::to_string(t.count() / 1000) + " s"; }

}  // namespace

struct Collective::Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
};

Collective::Collective(DistributedOptions options) : options_(std::move(options)) {}
Collective::~Collective() = default;

std::unique_ptr<Collective> Collective::connect(const DistributedOptions& options) {
  options.validate();
  std::unique_ptr<Collective> c(new Collective(options));
  if (!options.distributed()) return c;
  const std::string where = options.master_addr + ":" + std::to_string(options.master_port);
  auto group = std::make_unique<Group>();
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(options.master_port);
    so.isServer = options.rank == 0;
    so.numWorkers = static_cast<std::size_t>(options.world_size);
    so.waitWorkers = true;
    so.timeout = options.timeout;
    group->store = c10::make_intrusive<c10d::TCPStore>(options.master_addr, so);
  } catch (const std::exception& e) {
    throw Error("rank " + std::to_string(options.rank) + " of " + std::to_string(options.world_size) +
                ": no rendezvous at " + where + " within " + seconds(options.timeout) + " (" + message_of(e) +
                "); start every rank with the same --world-size and --master, rank 0 first reachable there");
  }
  try {
    auto go = c10d::ProcessGroupGloo::Options::create(options.timeout);
    // As torch.distributed: GLOO_SOCKET_IFNAME picks the network interface, else the host name's.
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
      go->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else
      go->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    go->threads = 2;
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>("quantforge", group->store);
    group->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, options.rank, options.world_size, go);
  } catch (const std::exception& e) {
    throw Error("rank " + std::to_string(options.rank) + " of " + std::to_string(options.world_size) +
                ": could not connect to the other ranks through " + where + " within " + seconds(options.timeout) +
                ": " + message_of(e) + " (start every rank; GLOO_SOCKET_IFNAME names the network interface to use)");
  }
  c->group_ = std::move(group);
  return c;
}

void Collective::all_reduce_sum(at::Tensor& tensor) {
  if (!group_) return;
  QF_ASSERT(tensor.is_contiguous() && tensor.device().is_cpu(), "all_reduce_sum needs a contiguous CPU tensor");
  const auto start = std::chrono::steady_clock::now();
  try {
    std::vector<at::Tensor> one{tensor};
    auto work = group_->gloo->allreduce(one);
    work->wait(options_.timeout);
    bytes_reduced_ += static_cast<int64_t>(tensor.nbytes());
    seconds_reducing_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } catch (const std::exception& e) {
    throw Error("distributed run: a sum across the " + std::to_string(options_.world_size) +
                " ranks failed on rank " + std::to_string(options_.rank) + " (" + message_of(e) +
                "): another rank stopped, failed or did not answer within " + seconds(options_.timeout));
  }
}

void Collective::barrier() {
  at::Tensor one = at::ones({1}, at::kLong);
  all_reduce_sum(one);
}

void Collective::require_same(const std::string& what, const std::string& value) {
  if (!group_) return;
  const std::string key = "check/" + std::to_string(checks_++) + "/";
  std::string mismatch;
  try {
    group_->store->set(key + std::to_string(options_.rank), std::vector<uint8_t>(value.begin(), value.end()));
    for (int r = 0; r < options_.world_size && mismatch.empty(); ++r) {
      const auto got = group_->store->get(key + std::to_string(r));
      const std::string theirs(got.begin(), got.end());
      if (theirs != value)
        mismatch = "distributed run: rank " + std::to_string(r) + " has a different " + what + " than rank " +
                   std::to_string(options_.rank) + " (\"" + theirs + "\" vs \"" + value +
                   "\"); every rank must run the same command on the same model files";
    }
    // Nobody leaves before everyone has read: rank 0 serves the store, and its exit would turn the
    // others' clear message into a lost connection.
    group_->store->set(key + "read/" + std::to_string(options_.rank), std::vector<uint8_t>{1});
    std::vector<std::string> read;
    for (int r = 0; r < options_.world_size; ++r) read.push_back(key + "read/" + std::to_string(r));
    group_->store->wait(read, options_.timeout);
  } catch (const std::exception& e) {
    if (mismatch.empty())
      throw Error("distributed run: rank " + std::to_string(options_.rank) + " could not compare its " + what +
                  " with the other ranks (" + message_of(e) + ")");
  }
  if (!mismatch.empty()) throw Error(mismatch);
}

}  // namespace qf::dist
