#include "server/scheduler.h"

#include <algorithm>

namespace dsv4 {

namespace {

size_t common_prefix(std::span<const int32_t> a, std::span<const int32_t> b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

bool Job::next(JobEvent& out, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return false;
  out = std::move(events_.front());
  events_.pop_front();
  while (!events_.empty() && !out.last) {
    JobEvent& e = events_.front();
    out.text += e.text;
    out.logprobs.insert(out.logprobs.end(), e.logprobs.begin(), e.logprobs.end());
    out.last = e.last;
    out.finish = e.finish;
    out.prompt_tokens = e.prompt_tokens;
    out.completion_tokens = e.completion_tokens;
    out.cached_tokens = e.cached_tokens;
    out.error = std::move(e.error);
    events_.pop_front();
  }
  return true;
}

void Job::post(JobEvent e) {
  {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(e));
  }
  cv_.notify_all();
}

Scheduler::Scheduler(Model& model, const Tokenizer& tokenizer, const SchedulerOptions& options)
    : model_(model), tokenizer_(tokenizer), options_(options), slots_(size_t(std::max(1, options.parallel))) {
  for (Slot& s : slots_) s.session = std::make_unique<Session>(model_, options_.context);
  thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  for (const auto& job : queue_) job->post({.last = true, .error = "the server is shutting down"});
  for (Slot& s : slots_)
    if (s.job) s.job->post({.last = true, .error = "the server is shutting down"});
}

bool Scheduler::submit(std::shared_ptr<Job> job) {
  {
    std::lock_guard lock(mu_);
    // A job may wait only if the queue has room beyond the slots about to free up for it.
    if (int(queue_.size()) >= options_.max_queue + int(slots_.size()) - active_) return false;
    queue_.push_back(std::move(job));
  }
  cv_.notify_all();
  return true;
}

SchedulerStats Scheduler::stats() {
  std::lock_guard lock(mu_);
  return {active_, int(queue_.size()), completed_, generated_};
}

size_t Scheduler::pick_slot(const std::vector<int32_t>& prompt) const {
  size_t best = slots_.size(), best_len = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].job) continue;
    const Session& s = *slots_[i].session;
    const size_t len = std::max(common_prefix(prompt, s.tokens()), common_prefix(prompt, s.reuse_point_tokens()));
    if (best == slots_.size() || len > best_len) {
      best = i;
      best_len = len;
    }
  }
  return best;
}

void Scheduler::loop() {
  for (;;) {
    std::vector<size_t> admitted;
    {
      std::unique_lock lock(mu_);
      const auto has_free = [&] { return active_ < int(slots_.size()); };
      cv_.wait(lock, [&] { return stop_ || active_ > 0 || (!queue_.empty() && has_free()); });
      if (stop_) return;
      while (!queue_.empty() && has_free()) {
        std::shared_ptr<Job> job = std::move(queue_.front());
        queue_.pop_front();
        if (job->cancelled()) continue;
        const size_t i = pick_slot(job->prompt);
        slots_[i].job = std::move(job);
        ++active_;
        admitted.push_back(i);
      }
    }
    for (size_t i : admitted) start(slots_[i]);
    decode_round();
  }
}

void Scheduler::decode_round() {
  std::vector<Slot*> batch;
  std::vector<Session*> sessions;
  std::vector<int32_t> tokens;
  for (Slot& s : slots_) {
    if (!s.job || !s.generator) continue;
    const std::vector<int32_t> run = sample(s);
    if (run.size() == 1) {
      batch.push_back(&s);
      sessions.push_back(s.session.get());
      tokens.push_back(run[0]);
    } else if (!run.empty()) {
      if (Status st = s.generator->feed(run); !st) fail(s, st);
    }
  }
  if (sessions.empty() || Session::append_batch(sessions, tokens)) return;
  // The batch was refused and nothing changed: feed the sessions one by one so that each hears its own error.
  for (size_t i = 0; i < batch.size(); ++i)
    if (Status st = batch[i]->generator->feed({&tokens[i], 1}); !st) fail(*batch[i], st);
}

void Scheduler::start(Slot& slot) {
  Job& job = *slot.job;
  Session& session = *slot.session;
  const std::span<const int32_t> all(job.prompt);
  // The reuse point sits before the prompt's last token by default: a later turn in thinking mode renders
  // this turn's "<think>" differently, so two conversations part ways there at the latest.
  const size_t at = job.reuse_at > 0 ? job.reuse_at : all.size() - 1;
  Status s = Status::ok();
  if (at > 0 && at < all.size()) {
    s = session.sync(all.first(at));
    slot.cached = session.reused_tokens();
    if (s) session.mark_reuse_point();
  }
  if (s) {
    s = session.sync(all);
    if (at == 0 || at >= all.size()) slot.cached = session.reused_tokens();
  }
  if (!s) {
    session.reset();
    std::shared_ptr<Job> keep = slot.job;
    release(slot);
    keep->post({.last = true, .prompt_tokens = int64_t(all.size()), .error = s.message()});
    return;
  }
  slot.generator = std::make_unique<Generator>(session, tokenizer_, job.options);
  slot.logprobs_sent = 0;
  if (slot.generator->done()) sample(slot);  // max_tokens 0: report the end at once
}

std::vector<int32_t> Scheduler::sample(Slot& slot) {
  Job& job = *slot.job;
  if (job.cancelled()) {
    release(slot);
    return {};
  }
  JobEvent e;
  Result<std::vector<int32_t>> run =
      slot.generator->done() ? std::vector<int32_t>{}
                             : slot.generator->sample([&](std::string_view piece) { e.text += piece; });
  const Generation& g = slot.generator->result();
  e.logprobs.assign(g.logprobs.begin() + long(slot.logprobs_sent), g.logprobs.end());
  slot.logprobs_sent = g.logprobs.size();
  if (!run) {
    e.last = true;
    e.error = run.status().message();
    slot.session->reset();
  } else if (slot.generator->done()) {
    e.last = true;
    e.finish = g.finish;
    e.prompt_tokens = int64_t(job.prompt.size());
    e.completion_tokens = int64_t(g.tokens.size());
    e.cached_tokens = slot.cached;
  }
  if (!e.last) {
    if (!e.text.empty() || !e.logprobs.empty()) job.post(std::move(e));
    return std::move(run).value();
  }
  end(slot, std::move(e));
  return {};
}

void Scheduler::fail(Slot& slot, const Status& s) {
  slot.session->reset();
  end(slot, {.last = true, .error = s.message()});
}

void Scheduler::end(Slot& slot, JobEvent e) {
  // Free the slot before the client hears of the end, so /health never shows a finished job as active.
  {
    std::lock_guard lock(mu_);
    ++completed_;
    generated_ += int64_t(slot.generator->result().tokens.size());
  }
  std::shared_ptr<Job> keep = slot.job;
  release(slot);
  keep->post(std::move(e));
}

void Scheduler::release(Slot& slot) {
  slot.generator.reset();
  slot.job.reset();
  std::lock_guard lock(mu_);
  --active_;
}

}  // namespace dsv4
