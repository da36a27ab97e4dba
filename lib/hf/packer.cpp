#include "hf/packer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "format/packed_writer.h"
#include "hf/range_crc.h"
#include "quant/blocks.h"
#include "platform/platform.h"
#include "util/checksum.h"
#include "util/error.h"

namespace ernie {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kMaxThreads = 8;
// Buffers of all threads together: source, f32 and destination chunks.
constexpr uint64_t kBufferBudget = 128u << 20;
constexpr uint64_t kMinChunkElements = 1u << 16;
constexpr uint64_t kMaxChunkElements = 4u << 20;
constexpr uint64_t kBlockMultiple = 256;  // every quantized type's block divides it
constexpr const char* kCrcPlaceholder = "00000000";

std::string hex8(uint32_t v) { return strfmt("%08x", v); }

std::string packer_version() {
  return strfmt("ernie %d.%d.%d", ERNIE_VERSION_MAJOR, ERNIE_VERSION_MINOR, ERNIE_VERSION_PATCH);
}

// The dtype holding most of the checkpoint's tensor bytes.
const char* dominant_source_dtype(const HfCheckpoint& ck) {
  std::map<DType, uint64_t> bytes;
  for (const auto& t : ck.tensors) {
    for (const auto& p : t.pieces) bytes[p.dtype] += p.elements * dtype_row_bytes(p.dtype, 1);
  }
  auto best = std::max_element(bytes.begin(), bytes.end(), [](auto& a, auto& b) { return a.second < b.second; });
  return best == bytes.end() ? "none" : dtype_name(best->first);
}

// Shard checksums are only known after streaming: they start as fixed-width
// placeholders and are filled in by replace_metadata.
Json build_metadata(const HfCheckpoint& ck, const std::vector<PackedTensorDesc>& descs,
                    const PackOptions& opt, const std::vector<std::string>& shard_crcs) {
  Json files = Json::array();
  for (const SourceFile& f : ck.small_files) {
    files.push_back({{"name", f.name}, {"size", f.size}, {"crc32c", hex8(f.crc32c)}});
  }
  for (size_t i = 0; i < ck.shards.size(); ++i) {
    std::string name = ck.shards[i].path().substr(ck.dir.size());
    if (!name.empty() && name[0] == '/') name.erase(0, 1);
    files.push_back({{"name", name}, {"size", ck.shards[i].file_size()}, {"crc32c", shard_crcs[i]}});
  }
  Json types = Json::object();
  for (const auto& d : descs) {
    std::string name = dtype_name(d.type);
    types[name] = types.value(name, 0) + 1;
  }
  Json m;
  m["format"] = 1;
  m["config"] = ck.config.to_json();
  m["tokenizer"] = ck.tokenizer;
  m["chat_template"] = ck.chat_template;
  m["provenance"] = {{"packer", packer_version()},
                     {"requested_type", opt.recipe ? std::string("recipe ") + quant::recipe_name(*opt.recipe)
                                       : opt.type ? dtype_name(*opt.type) : "auto"},
                     {"source_dtype", dominant_source_dtype(ck)},
                     {"source_files", std::move(files)}};
  m["tensor_types"] = std::move(types);
  return m;
}

// Streams every tensor of the checkpoint into the writer on worker threads
// while the calling thread reports progress (the API promises progress
// callbacks on the caller's thread) and relays cancellation.
class Streamer {
 public:
  Streamer(const HfCheckpoint& ck, PackedWriter& writer, const std::vector<DType>& types, const PackOptions& opt,
           std::vector<FileCrcBuilder>& shard_crcs, uint64_t total_bytes)
      : ck_(ck), writer_(writer), types_(types), opt_(opt), shard_crcs_(shard_crcs), total_bytes_(total_bytes) {}

  void run(int n_threads) {
    // Chunks are whole quantization blocks (pieces are whole rows, rows whole
    // blocks), and no larger than the largest piece: the buffers are
    // zero-filled at allocation, so oversized ones cost time on small models.
    uint64_t largest = 0;
    for (const auto& t : ck_.tensors) {
      for (const auto& p : t.pieces) largest = std::max(largest, p.elements);
    }
    const uint64_t budget = std::clamp<uint64_t>(kBufferBudget / (12u * static_cast<uint64_t>(n_threads)),
                                                 kMinChunkElements, kMaxChunkElements);
    chunk_elements_ = std::min(budget, (largest + kBlockMultiple - 1) / kBlockMultiple * kBlockMultiple);
    chunk_elements_ = std::max<uint64_t>(chunk_elements_ / kBlockMultiple * kBlockMultiple, kBlockMultiple);
    // A type storing rows in groups (q4x8) converts whole groups per chunk.
    for (size_t i = 0; i < ck_.tensors.size(); ++i) {
      if (dtype_row_group(types_[i]) == 1) continue;
      chunk_elements_ = std::max(chunk_elements_, dtype_row_group(types_[i]) * static_cast<uint64_t>(ck_.tensors[i].spec.shape.back()));
    }
    std::vector<std::thread> threads;
    try {
      for (int i = 0; i < n_threads; ++i) threads.emplace_back([this] { work(); });
    } catch (...) {  // could not start a thread: stop the others before unwinding
      stop_ = true;
      for (auto& t : threads) t.join();
      throw;
    }
    {
      std::unique_lock<std::mutex> lock(mutex_);
      while (finished_ < static_cast<int>(threads.size())) {
        done_cv_.wait_for(lock, std::chrono::milliseconds(100));
        lock.unlock();
        try {
          report();
        } catch (...) {  // a throwing callback: stop the workers, join them, then rethrow
          record_error(std::current_exception());
        }
        lock.lock();
      }
    }
    for (auto& t : threads) t.join();
    if (error_) std::rethrow_exception(error_);
    if (cancelled_) ERNIE_FAIL(ERNIE_E_CANCELLED, "packing was cancelled");
  }

  // Progress is the fraction of checkpoint bytes read: tensor data, then the
  // rest of each shard for its checksum. A false from the callback cancels.
  void add_bytes(uint64_t n) { bytes_done_ += n; }
  void report() {
    if (!opt_.progress || cancelled_) return;
    float f = total_bytes_ ? static_cast<float>(std::min<double>(1.0, double(bytes_done_) / double(total_bytes_))) : 1.f;
    if (!opt_.progress(f)) cancelled_ = true;
  }
  bool cancelled() const { return cancelled_; }

 private:
  void work() {
    try {
      Buffers buf;
      buf.src.resize(chunk_elements_ * 4);
      buf.f32.resize(chunk_elements_);
      buf.dst.resize(chunk_elements_ * 4);
      for (;;) {
        size_t i = next_++;
        if (i >= ck_.tensors.size() || cancelled_ || stop_) break;
        stream_tensor(i, buf);
      }
    } catch (...) {
      record_error(std::current_exception());
    }
    std::lock_guard<std::mutex> lock(mutex_);
    ++finished_;
    done_cv_.notify_all();
  }

  void record_error(std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_) error_ = e;
    stop_ = true;
  }

  struct Buffers {
    std::vector<uint8_t> src, dst;
    std::vector<float> f32;
  };

  void stream_tensor(size_t i, Buffers& buf) {
    const CanonicalTensor& t = ck_.tensors[i];
    const DType to = types_[i];
    TensorSink sink = writer_.begin_tensor(i);
    if (t.pieces.empty()) {  // an absent router bias: zeros
      std::fill(buf.dst.begin(), buf.dst.end(), uint8_t{0});
      while (sink.remaining() > 0) sink.write(buf.dst.data(), std::min<uint64_t>(sink.remaining(), buf.dst.size()));
    }
    // Values converted together: a group of rows for q4x8, else any whole blocks.
    const uint64_t group = dtype_row_group(to) > 1 ? dtype_row_group(to) * static_cast<uint64_t>(t.spec.shape.back()) : 0;
    const uint64_t step = group ? chunk_elements_ / group * group : chunk_elements_;
    for (const SourcePiece& p : t.pieces) {
      const SafetensorsFile& shard = ck_.shards[p.shard];
      const uint64_t from_bytes = dtype_row_bytes(p.dtype, 1);
      ERNIE_CHECK(!group || (p.dst_element % group == 0 && p.elements % group == 0), ERNIE_E_INTERNAL,
                  "tensor '%s': a source piece is not whole %s row groups", t.spec.name.c_str(), dtype_name(to));
      for (uint64_t done = 0; done < p.elements;) {
        if (cancelled_ || stop_) return;
        const size_t n = static_cast<size_t>(std::min(p.elements - done, step));
        const uint64_t offset = p.offset + done * from_bytes;
        shard.read(offset, buf.src.data(), n * from_bytes);
        shard_crcs_[p.shard].add(offset, n * from_bytes, crc32c(buf.src.data(), n * from_bytes));
        if (p.dtype == to) {
          sink.write(buf.src.data(), n * from_bytes);
        } else {
          // n is whole rows or whole chunks, so whole blocks of a quantized type.
          const uint64_t out_bytes = dtype_row_bytes(to, n);
          ERNIE_CHECK(out_bytes > 0, ERNIE_E_INTERNAL, "tensor '%s': %zu values are not whole %s blocks",
                      t.spec.name.c_str(), n, dtype_name(to));
          convert_to_f32(p.dtype, buf.src.data(), buf.f32.data(), n);
          const size_t per = group ? static_cast<size_t>(group) : n;  // q4x8 converts one group per call
          const uint64_t per_bytes = dtype_row_bytes(to, per);
          for (size_t at = 0; at < n; at += per) {
            convert_from_f32(to, buf.f32.data() + at, buf.dst.data() + at / per * per_bytes, per);
          }
          sink.write(buf.dst.data(), out_bytes);
        }
        done += n;
        add_bytes(n * from_bytes);
      }
    }
    sink.end();
  }

  const HfCheckpoint& ck_;
  PackedWriter& writer_;
  const std::vector<DType>& types_;
  const PackOptions& opt_;
  std::vector<FileCrcBuilder>& shard_crcs_;
  const uint64_t total_bytes_;
  uint64_t chunk_elements_ = kMinChunkElements;

  std::atomic<size_t> next_{0};
  std::atomic<uint64_t> bytes_done_{0};
  std::atomic<bool> cancelled_{false}, stop_{false};
  std::mutex mutex_;
  std::condition_variable done_cv_;
  int finished_ = 0;
  std::exception_ptr error_;
};

int thread_count(int requested, size_t n_tensors) {
  int n = requested > 0 ? requested : physical_core_count();
  n = std::min(n, kMaxThreads);
  n = std::min<int64_t>(n, static_cast<int64_t>(std::max<size_t>(n_tensors, 1)));
  return std::max(n, 1);
}

}  // namespace

DType packed_dtype(const CanonicalTensor& t, const PackOptions& opt) {
  if (t.spec.role == TensorRole::Router) return DType::F32;
  if (opt.recipe) return quant::recipe_dtype(*opt.recipe, t.spec.role, matrix_rows(t.spec.shape), t.spec.shape.back());
  const std::optional<DType>& requested = opt.type;
  if (requested) {
    if (t.spec.role == TensorRole::Norm) return DType::F32;
    // q4x8 only where rows come in whole groups and are not looked up one by one.
    if (*requested == DType::Q4X8 &&
        (t.spec.role == TensorRole::Embedding || matrix_rows(t.spec.shape) % quant::kQ4X8Rows != 0)) {
      return DType::Q4;
    }
    return *requested;
  }
  if (t.pieces.empty()) return DType::F32;
  const DType first = t.pieces[0].dtype;
  for (const auto& p : t.pieces) {
    if (p.dtype != first) return DType::F32;  // mixed: f32 holds every source type exactly
  }
  return first;
}

void pack_checkpoint(const std::string& hf_dir, const std::string& out_path, const PackOptions& opt) {
  if (opt.progress && !opt.progress(0.0f)) ERNIE_FAIL(ERNIE_E_CANCELLED, "packing was cancelled");
  HfCheckpoint ck = open_hf_checkpoint(hf_dir, opt.log);

  std::vector<PackedTensorDesc> descs;
  std::vector<DType> types;
  for (const CanonicalTensor& t : ck.tensors) {
    types.push_back(packed_dtype(t, opt));
    descs.push_back({t.spec.name, types.back(), t.spec.shape});
  }
  std::vector<std::string> shard_crcs(ck.shards.size(), kCrcPlaceholder);
  PackedWriter writer(out_path, build_metadata(ck, descs, opt, shard_crcs), std::move(ck.tokenizer_model), descs);

  uint64_t total_bytes = 0;
  for (const auto& s : ck.shards) total_bytes += s.file_size();
  const int n_threads = thread_count(opt.n_threads, ck.tensors.size());
  opt.log.log(ERNIE_LOG_INFO, strfmt("packing %zu tensors from '%s' (%zu safetensors files, %.2f GB) into '%s' "
                                     "(%.2f GB) with %d threads",
                                     descs.size(), hf_dir.c_str(), ck.shards.size(), total_bytes / 1e9,
                                     out_path.c_str(), writer.file_size() / 1e9, n_threads));

  std::vector<FileCrcBuilder> crc_builders(ck.shards.size());
  Streamer streamer(ck, writer, types, opt, crc_builders, total_bytes);
  streamer.run(n_threads);

  // The bytes no tensor covered (headers, ignored tensors) complete each
  // shard's checksum.
  std::vector<uint8_t> buffer(8u << 20);
  for (size_t i = 0; i < ck.shards.size(); ++i) {
    const SafetensorsFile& shard = ck.shards[i];
    uint32_t crc = crc_builders[i].finish(
        shard.file_size(), [&](uint64_t off, void* dst, size_t n) { shard.read(off, dst, n); }, buffer,
        [&](uint64_t n) {
          streamer.add_bytes(n);
          streamer.report();
          if (streamer.cancelled()) ERNIE_FAIL(ERNIE_E_CANCELLED, "packing was cancelled");
        });
    shard_crcs[i] = hex8(crc);
  }
  writer.replace_metadata(build_metadata(ck, descs, opt, shard_crcs));
  if (opt.progress && !opt.progress(1.0f)) ERNIE_FAIL(ERNIE_E_CANCELLED, "packing was cancelled");
  writer.finish();
  opt.log.log(ERNIE_LOG_INFO, strfmt("wrote '%s' (%llu bytes)", out_path.c_str(),
                                     static_cast<unsigned long long>(writer.file_size())));
}

}  // namespace ernie
