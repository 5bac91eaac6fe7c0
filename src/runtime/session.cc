#include "runtime/session.h"

#include <algorithm>

namespace dsv4 {

namespace {
bool starts_with(std::span<const int32_t> a, const std::vector<int32_t>& prefix) {
  return prefix.size() <= a.size() && std::equal(prefix.begin(), prefix.end(), a.begin());
}
}  // namespace

Session::Session(Model& model, int64_t context, int64_t prefill_chunk, KvFormat kv_format)
    : model_(model),
      cache_(model.new_cache(context, kv_format)),
      chunk_(prefill_chunk),
      logits_(size_t(model.config().vocab_size)),
      streams_(size_t(prefill_chunk * model.config().hc_dim())) {
  tokens_.reserve(size_t(context));  // decode steps append without reallocating
}

void Session::reset() {
  cache_.reset();
  tokens_.clear();
}

void Session::mark_reuse_point() {
  reuse_.tokens = tokens_;
  reuse_.logits = logits_;
  reuse_.state = take_snapshot(cache_);
  reuse_.valid = true;
}

Status Session::sync(std::span<const int32_t> tokens) {
  if (tokens.empty()) return Status::error("empty prompt: at least one token is needed");
  if (int64_t(tokens.size()) > cache_.capacity)
    return Status::error("prompt of {} tokens exceeds the context of {} tokens", tokens.size(), cache_.capacity);
  const int64_t vocab = model_.config().vocab_size;
  for (int32_t t : tokens)
    if (t < 0 || t >= vocab) return Status::error("token id {} is outside the vocabulary (size {})", t, vocab);
  if (!starts_with(tokens, tokens_)) {
    if (reuse_.valid && starts_with(tokens, reuse_.tokens)) {
      restore_snapshot(cache_, reuse_.state);
      tokens_ = reuse_.tokens;
      logits_ = reuse_.logits;
    } else {
      reset();
    }
  }
  reused_ = int64_t(tokens_.size());
  if (tokens_.size() == tokens.size()) return Status::ok();  // nothing new: the logits are current
  return extend(tokens.subspan(tokens_.size()));
}

Status Session::check_append(int32_t token) const {
  if (int64_t(tokens_.size()) + 1 > cache_.capacity)
    return Status::error("the context of {} tokens is full", cache_.capacity);
  if (token < 0 || token >= model_.config().vocab_size)
    return Status::error("token id {} is outside the vocabulary", token);
  return Status::ok();
}

Status Session::append(int32_t token) {
  DSV4_RETURN_IF_ERROR(check_append(token));
  const int32_t t[1] = {token};
  return extend(t);
}

Status Session::append_batch(std::span<Session* const> sessions, std::span<const int32_t> tokens) {
  if (sessions.size() != tokens.size()) return Status::error("{} sessions but {} tokens", sessions.size(), tokens.size());
  if (sessions.empty()) return Status::ok();
  Model& model = sessions.front()->model_;
  std::vector<KvCache*> caches;
  for (size_t i = 0; i < sessions.size(); ++i) {
    if (&sessions[i]->model_ != &model) return Status::error("a batch must share one model");
    DSV4_RETURN_IF_ERROR(sessions[i]->check_append(tokens[i]));
    caches.push_back(&sessions[i]->cache_);
  }
  const size_t vocab = size_t(model.config().vocab_size);
  std::vector<float> logits(sessions.size() * vocab);
  model.decode(tokens, caches, logits.data());
  for (size_t i = 0; i < sessions.size(); ++i) {
    sessions[i]->tokens_.push_back(tokens[i]);
    std::copy_n(logits.begin() + long(i * vocab), vocab, sessions[i]->logits_.begin());
  }
  return Status::ok();
}

Status Session::extend(std::span<const int32_t> tokens) {
  const int64_t hc_dim = model_.config().hc_dim();
  for (size_t done = 0; done < tokens.size();) {
    const int64_t n = std::min<int64_t>(chunk_, int64_t(tokens.size() - done));
    const int64_t pos = int64_t(tokens_.size());
    model_.embed(tokens.data() + done, n, streams_.data());
    model_.forward_blocks(tokens.data() + done, n, pos, cache_, streams_.data());
    tokens_.insert(tokens_.end(), tokens.begin() + long(done), tokens.begin() + long(done) + n);
    done += size_t(n);
    if (done == tokens.size()) model_.logits(streams_.data() + (n - 1) * hc_dim, 1, logits_.data());
  }
  return Status::ok();
}

}  // namespace dsv4
