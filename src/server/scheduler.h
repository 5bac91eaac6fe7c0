// The server's engine loop: one thread owns the model and `parallel` sessions (slots). Each round it
// admits queued jobs into free slots (prefilling their prompts, reusing a slot's cached prefix where the
// prompt extends it) and then advances every active job by one token. Jobs beyond the free slots wait in
// a bounded queue; a cancelled job (client gone) leaves its slot at the next round.
//
// Continuous batching: each round every active job samples its next token, then all sessions taking one
// token advance together in one batched forward step (Session::append_batch: each weight product once
// over all of them, attention per session on its own cache). A batched step gives each session the bits
// it would get alone, so outputs do not depend on what else was running. A jump-forward run of several
// tokens forced by a grammar is fed on its own; prefill of admitted prompts runs per session, chunked.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/generate.h"
#include "model/model.h"
#include "text/tokenizer.h"

namespace dsv4 {

// What a job produced since the consumer last looked.
struct JobEvent {
  std::string text;                    // output text that became final
  std::vector<SampledToken> logprobs;  // of the tokens behind `text` (when the options ask)
  bool last = false;                   // the job has ended (finish, counts and error are set)
  FinishReason finish = FinishReason::kLength;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;           // prompt tokens taken from the cache instead of prefilled
  std::string error;                   // non-empty: the job failed
};

class Job {
 public:
  Job(std::vector<int32_t> prompt, size_t reuse_at, GenerateOptions options)
      : prompt(std::move(prompt)), reuse_at(reuse_at), options(std::move(options)) {}

  const std::vector<int32_t> prompt;
  const size_t reuse_at;  // keep a reuse point after this many prompt tokens (0: at the prompt's end - 1)
  const GenerateOptions options;

  // Consumer: waits up to `timeout` for output; merges everything pending into `out`. False on timeout.
  bool next(JobEvent& out, std::chrono::milliseconds timeout);
  void cancel() { cancelled_ = true; }
  bool cancelled() const { return cancelled_; }

  // Producer (the scheduler thread).
  void post(JobEvent e);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<JobEvent> events_;
  std::atomic<bool> cancelled_{false};
};

struct SchedulerOptions {
  int parallel = 1;        // sessions decoding together
  int64_t context = 4096;  // tokens per session
  int max_queue = 64;      // jobs waiting for a slot; more are refused
};

struct SchedulerStats {
  int active = 0;
  int queued = 0;
  int64_t completed = 0;
  int64_t generated_tokens = 0;
};

class Scheduler {
 public:
  Scheduler(Model& model, const Tokenizer& tokenizer, const SchedulerOptions& options);
  ~Scheduler();  // finishes nothing: pending jobs end with an error
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // False when the queue is full.
  bool submit(std::shared_ptr<Job> job);
  SchedulerStats stats();
  int64_t context() const { return options_.context; }

 private:
  struct Slot {
    std::unique_ptr<Session> session;
    std::shared_ptr<Job> job;
    std::unique_ptr<Generator> generator;
    size_t logprobs_sent = 0;
    int64_t cached = 0;
  };
  void loop();
  size_t pick_slot(const std::vector<int32_t>& prompt) const;  // a free slot, preferring a shared prefix
  void start(Slot& slot);
  void decode_round();
  // Samples the slot's next token and posts its output; ends the job when it is done, failed or cancelled.
  // Returns the tokens its session must take next (none when the job has ended).
  std::vector<int32_t> sample(Slot& slot);
  void fail(Slot& slot, const Status& s);  // ends the job with an error
  void end(Slot& slot, JobEvent e);        // frees the slot, then posts the job's last event
  void release(Slot& slot);

  Model& model_;
  const Tokenizer& tokenizer_;
  SchedulerOptions options_;
  std::vector<Slot> slots_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stop_ = false;
  int active_ = 0;
  int64_t completed_ = 0, generated_ = 0;
  std::thread thread_;
};

}  // namespace dsv4
