// Session: one inference timeline over a Model — its KV cache, the tokens the cache holds, and the
// logits after the last of them. Callers hand it the full token sequence they want processed; it keeps
// the longest valid cached prefix, prefills the rest in chunks, and can go back to a reuse point
// (a snapshot of the state that later tokens overwrite: window rings and compressor state).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "model/model.h"

namespace dsv4 {

class Session {
 public:
  Session(Model& model, int64_t context, int64_t prefill_chunk = 256, KvFormat kv_format = {});

  // Makes the cache hold exactly `tokens` (at least one) and computes the logits after the last one.
  // Reuses the cached prefix when `tokens` extends it, or the latest reuse point that `tokens` extends.
  Status sync(std::span<const int32_t> tokens);
  // Appends one token: sync(tokens() + token), without the search.
  Status append(int32_t token);
  // append() on several sessions of one model in one batched forward step (Model::decode): sessions[i]
  // takes tokens[i]. Their caches, tokens and logits end up exactly as after append() on each alone.
  // Checks every session first; on an error none has changed.
  static Status append_batch(std::span<Session* const> sessions, std::span<const int32_t> tokens);
  // Remembers the current state as a reuse point (one is kept; the latest wins).
  void mark_reuse_point();
  void reset();

  const std::vector<int32_t>& tokens() const { return tokens_; }
  std::span<float> logits() { return logits_; }  // [vocab_size], after the last token
  int64_t context() const { return cache_.capacity; }
  int64_t reused_tokens() const { return reused_; }  // how many tokens the last sync() did not recompute
  // The tokens of the reuse point (empty when there is none): a scheduler picks the session whose cached
  // tokens or reuse point share the longest prefix with a new prompt.
  std::span<const int32_t> reuse_point_tokens() const {
    return reuse_.valid ? std::span<const int32_t>(reuse_.tokens) : std::span<const int32_t>();
  }
  const KvCache& cache() const { return cache_; }

 private:
  struct ReusePoint {
    std::vector<int32_t> tokens;
    std::vector<float> logits;
    KvSnapshot state;
    bool valid = false;
  };
  Status extend(std::span<const int32_t> tokens);  // processes tokens after tokens_
  Status check_append(int32_t token) const;

  Model& model_;
  KvCache cache_;
  int64_t chunk_;
  std::vector<int32_t> tokens_;
  std::vector<float> logits_;
  std::vector<float> streams_;  // [chunk, hc, dim] scratch
  ReusePoint reuse_;
  int64_t reused_ = 0;
};

}  // namespace dsv4
