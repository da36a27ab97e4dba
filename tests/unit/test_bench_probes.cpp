// bench's read probe over memory it does not own (RangeReadProbe) and the
// map of what one decoded token reads (token_read_ranges), tested directly:
// the first must read every whole aligned word of its ranges exactly once,
// whatever the thread count and the ranges' alignment; the second must
// cover exactly the bytes weight_bytes_per_token counts.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dev/probes.h"
#include "dev/weight_traffic.h"
#include "format/packed_file.h"
#include "model/config.h"
#include "support/test_util.h"

namespace {

// What the probe must sum: the aligned 8-byte words wholly inside each range.
uint64_t expected_sum(const std::vector<ernie::dev::ByteRange>& ranges) {
  uint64_t sum = 0;
  for (const auto& r : ranges) {
    const auto begin = reinterpret_cast<uintptr_t>(r.data), end = begin + r.bytes;
    for (uintptr_t w = (begin + 7) / 8 * 8; w + 8 <= end; w += 8) sum += *reinterpret_cast<const uint64_t*>(w);
  }
  return sum;
}

}  // namespace

TEST_SUITE("bench") {
  TEST_CASE("bench probes: the range probe reads each whole word of its ranges once") {
    std::vector<uint64_t> buffer(1 << 17);
    for (size_t i = 0; i < buffer.size(); ++i) buffer[i] = i * 0x9E3779B97F4A7C15ull + 1;
    const auto* bytes = reinterpret_cast<const uint8_t*>(buffer.data());
    std::vector<ernie::dev::ByteRange> ranges = {
        {bytes + 3, 1000},            // misaligned at both ends
        {bytes + 2048, 1},            // no whole word: nothing
        {bytes + 4096, 0},            // empty
        {bytes + 100000, 7 * 8 + 5},  // shorter than a thread's share
        {bytes, 8 * buffer.size()},   // the whole buffer again: read again
    };
    // Ranges of assorted sizes and offsets, so that the threads' shares start
    // and end inside ranges and run across their boundaries.
    uint64_t state = 7;
    for (int i = 0; i < 24; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      const uint64_t at = (state >> 20) % (buffer.size() * 4), size = (state >> 40) % 40000;
      ranges.push_back({bytes + at, size});
    }
    const uint64_t want = expected_sum(ranges);
    for (int threads : {1, 2, 3, 8}) {
      CAPTURE(threads);
      ernie::dev::RangeReadProbe probe(threads);
      CHECK(probe.seconds(ranges) > 0);
      CHECK(probe.last_sum() == want);
      CHECK(probe.seconds({ranges[1], ranges[2]}) >= 0);  // nothing to read
      CHECK(probe.last_sum() == 0);
    }
  }

  TEST_CASE("bench probes: a token's read ranges hold the bytes per token") {
    for (const std::string name : {"tiny-moe-a", "tiny-moe-b"}) {
      CAPTURE(name);
      auto file = ernie::PackedFile::open(test::packed_golden(name), true);
      const ernie::ModelConfig config = ernie::ModelConfig::from_json(file->metadata()["config"]);
      const ernie::dev::WeightTraffic traffic = ernie::dev::weight_bytes_per_token(*file, config);
      const ernie::dev::TokenReads reads = ernie::dev::token_read_ranges(*file, config);
      CHECK(reads.routed_share == doctest::Approx(static_cast<double>(config.moe_k) / config.moe_num_experts));
      const auto* begin = static_cast<const uint8_t*>(file->data(file->tensors().front()));
      double every = 0, routed = 0;
      for (const auto& r : reads.every_token) every += static_cast<double>(r.bytes);
      for (const auto& r : reads.routed) routed += static_cast<double>(r.bytes);
      for (const auto* list : {&reads.every_token, &reads.routed}) {
        for (const auto& r : *list) {
          const auto* p = static_cast<const uint8_t*>(r.data);
          CHECK(p >= begin - file->tensors().front().offset);
          CHECK(p + r.bytes <= begin - file->tensors().front().offset + file->file_size());
        }
      }
      // The head (the embedding where tied) is read whole; the one embedding
      // row is the only count the ranges leave out, and the traffic count
      // rounds routed experts' moe_k / n_experts share down per tensor.
      const double want = static_cast<double>(traffic.total() - traffic.embedding_row);
      CHECK(every + routed * reads.routed_share == doctest::Approx(want).epsilon(1e-6));
      CHECK(reads.bytes() == doctest::Approx(want).epsilon(1e-6));  // what bench divides by
      CHECK(every == doctest::Approx(static_cast<double>(want - traffic.moe_routed)));
    }
  }
}
