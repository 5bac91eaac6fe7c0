// Continuous batching (Model::decode, Session::append_batch): a batched decode step over several
// sequences, each at its own position with its own cache, must give every sequence the bits it gets when
// decoded alone — logits and cache alike — so that greedy outputs do not depend on batching. Prompt
// lengths put the sequences at different phases of the window (16 here) and of both compression ratios
// (4 and 128), and the steps complete compressed entries in some sequences but not in others.
#include <gtest/gtest.h>

#include <algorithm>

#include "model/model.h"
#include "runtime/session.h"
#include "test_util.h"

namespace dsv4 {
namespace {

const std::vector<int64_t> kPromptLengths = {1, 6, 19, 127, 262};
constexpr int kSteps = 7;

std::vector<int32_t> prompt(int64_t n, int64_t vocab, int32_t salt) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ids[size_t(i)] = int32_t((i * 7919 + salt * 104729 + 3) % vocab);
  return ids;
}

int32_t argmax(const float* logits, int64_t vocab) { return int32_t(std::max_element(logits, logits + vocab) - logits); }

std::vector<float> decoded(const KvRows& rows) {
  std::vector<float> v(size_t(rows.rows * rows.layout.width));
  rows.load(0, rows.rows, v.data());
  return v;
}

void expect_same_cache(const KvCache& a, const KvCache& b, const std::string& what) {
  for (size_t l = 0; l < a.layers.size(); ++l) {
    const LayerState &x = a.layers[l], &y = b.layers[l];
    EXPECT_EQ(x.next_pos, y.next_pos) << what << " layer " << l;
    EXPECT_EQ(decoded(x.window), decoded(y.window)) << what << " window, layer " << l;
    EXPECT_EQ(decoded(x.entries), decoded(y.entries)) << what << " entries, layer " << l;
    EXPECT_EQ(decoded(x.index_keys), decoded(y.index_keys)) << what << " indexer keys, layer " << l;
    EXPECT_EQ(x.compressor.kv, y.compressor.kv) << what << " compressor, layer " << l;
    EXPECT_EQ(x.compressor.score, y.compressor.score) << what << " compressor, layer " << l;
    EXPECT_EQ(x.index_compressor.kv, y.index_compressor.kv) << what << " indexer compressor, layer " << l;
    EXPECT_EQ(x.index_compressor.score, y.index_compressor.score) << what << " indexer compressor, layer " << l;
  }
}

void check_model(const std::string& name, const std::string& kv_format) {
  auto loaded = Model::load(testing::golden_case(name));
  ASSERT_TRUE(loaded) << loaded.status().message();
  Model& m = *loaded.value();
  const KvFormat format = parse_kv_format(kv_format).value();
  const int64_t V = m.config().vocab_size, N = int64_t(kPromptLengths.size());
  const int64_t capacity = kPromptLengths.back() + kSteps;

  // Each sequence prefilled twice: one copy decodes alone, the other in the batch.
  std::vector<KvCache> alone, batched;
  std::vector<int32_t> next(static_cast<size_t>(N));
  std::vector<float> logits(static_cast<size_t>(V));
  for (int64_t i = 0; i < N; ++i) {
    const std::vector<int32_t> ids = prompt(kPromptLengths[size_t(i)], V, int32_t(i));
    std::vector<float> all(ids.size() * size_t(V));
    alone.push_back(m.new_cache(capacity, format));
    batched.push_back(m.new_cache(capacity, format));
    m.forward(ids.data(), int64_t(ids.size()), 0, alone.back(), all.data());
    m.forward(ids.data(), int64_t(ids.size()), 0, batched.back(), all.data());
    next[size_t(i)] = argmax(all.data() + (int64_t(ids.size()) - 1) * V, V);
  }
  std::vector<KvCache*> caches;
  for (KvCache& c : batched) caches.push_back(&c);
  std::vector<float> batch_logits(static_cast<size_t>(N * V));
  for (int step = 0; step < kSteps; ++step) {
    // The batch shrinks on the last steps, as sequences finish.
    const size_t n = step < kSteps - 2 ? size_t(N) : size_t(N) - size_t(step - (kSteps - 3));
    m.decode(std::span<const int32_t>(next).first(n), std::span<KvCache* const>(caches).first(n), batch_logits.data());
    for (size_t i = 0; i < n; ++i) {
      const int64_t pos = alone[i].layers.front().next_pos;
      m.forward(&next[i], 1, pos, alone[i], logits.data());
      const std::vector<float> row(batch_logits.begin() + long(i * size_t(V)), batch_logits.begin() + long((i + 1) * size_t(V)));
      ASSERT_EQ(row, logits) << name << " " << kv_format << ": sequence " << i << " at position " << pos;
      next[i] = argmax(logits.data(), V);
    }
  }
  for (size_t i = 0; i < size_t(N); ++i) expect_same_cache(alone[i], batched[i], name + " sequence " + std::to_string(i));
}

TEST(BatchDecode, BitIdenticalToSingleSequenceDecodeFp8) { check_model("tiny-fp8", "f32"); }
TEST(BatchDecode, BitIdenticalToSingleSequenceDecodeBf16) { check_model("tiny-bf16", "f32"); }
TEST(BatchDecode, BitIdenticalWithAnFp8Cache) { check_model("tiny-fp8", "fp8"); }

TEST(BatchDecode, SessionAppendBatchMatchesAppend) {
  auto loaded = Model::load(testing::golden_case("tiny-fp8"));
  ASSERT_TRUE(loaded) << loaded.status().message();
  Model& m = *loaded.value();
  const int64_t V = m.config().vocab_size;
  std::vector<std::unique_ptr<Session>> alone, batched;
  for (int64_t i = 0; i < 3; ++i) {
    const std::vector<int32_t> ids = prompt(5 + 9 * i, V, int32_t(i));
    alone.push_back(std::make_unique<Session>(m, 64, 8));
    batched.push_back(std::make_unique<Session>(m, 64, 8));
    ASSERT_TRUE(alone.back()->sync(ids).is_ok());
    ASSERT_TRUE(batched.back()->sync(ids).is_ok());
  }
  std::vector<Session*> sessions;
  for (auto& s : batched) sessions.push_back(s.get());
  const std::vector<int32_t> tokens = {4, 40, 400};
  ASSERT_TRUE(Session::append_batch(sessions, tokens).is_ok());
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(alone[i]->append(tokens[i]).is_ok());
    EXPECT_EQ(batched[i]->tokens(), alone[i]->tokens());
    EXPECT_TRUE(std::equal(batched[i]->logits().begin(), batched[i]->logits().end(), alone[i]->logits().begin()));
  }
  // A bad token anywhere refuses the whole batch and changes nothing.
  const std::vector<int32_t> bad = {1, int32_t(V), 2};
  EXPECT_FALSE(Session::append_batch(sessions, bad).is_ok());
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(batched[i]->tokens(), alone[i]->tokens());
}

}  // namespace
}  // namespace dsv4
