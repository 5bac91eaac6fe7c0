#include "server/http_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "server/openai_request.h"
#include "server/reply_parser.h"
#include "server/scheduler.h"

namespace dsv4 {

namespace {

using Json = nlohmann::ordered_json;

// Generated text is valid UTF-8, but token pieces (logprobs) may be parts of a character: dump with
// replacement rather than throw.
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  res.set_content(dump(to_json(e)), "application/json");
}

std::string random_id(std::string_view prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{}{:016x}{:08x}", prefix, rng(), uint32_t(rng()));
}

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Builds the response objects of one request, streamed or whole, from the job's events.
class Reply {
 public:
  Reply(const ApiRequest& r, const Tokenizer& tokenizer)
      : r_(r), tokenizer_(tokenizer), parser_(r.thinking), id_(random_id(r.chat ? "chatcmpl-" : "cmpl-")),
        created_(now_seconds()) {}

  // One stream chunk per event (nothing when the event carries no visible change).
  std::optional<Json> chunk(const JobEvent& e) {
    if (!r_.chat) {
      text_ += e.text;
      if (e.text.empty() && e.logprobs.empty()) return std::nullopt;
      Json c = base("text_completion");
      c["choices"] = Json::array({{{"index", 0}, {"text", e.text}, {"logprobs", completion_logprobs(e.logprobs)},
                                   {"finish_reason", nullptr}}});
      return c;
    }
    ReplyDelta d = parser_.push(e.text);
    if (e.last) {
      ReplyDelta rest = parser_.finish();
      d.reasoning += rest.reasoning;
      d.content += rest.content;
      for (ToolCallDelta& t : rest.tool_calls) {
        if (!d.tool_calls.empty() && d.tool_calls.back().index == t.index) {
          d.tool_calls.back().arguments += t.arguments;
        } else {
          d.tool_calls.push_back(std::move(t));
        }
      }
    }
    append_logprobs(e.logprobs);
    if (d.empty() && e.logprobs.empty()) return std::nullopt;
    Json delta = Json::object();
    if (!d.reasoning.empty()) delta["reasoning_content"] = d.reasoning;
    if (!d.content.empty()) delta["content"] = d.content;
    if (!d.tool_calls.empty() && r_.has_tools) {
      Json calls = Json::array();
      for (const ToolCallDelta& t : d.tool_calls) {
        Json fn = Json::object();
        Json call = {{"index", t.index}};
        if (!t.name.empty()) {
          call["id"] = call_id(t.index);
          call["type"] = "function";
          fn["name"] = t.name;
        }
        fn["arguments"] = t.arguments;
        call["function"] = fn;
        calls.push_back(call);
      }
      delta["tool_calls"] = calls;
    }
    Json c = base("chat.completion.chunk");
    c["choices"] = Json::array({{{"index", 0}, {"delta", delta}, {"logprobs", chat_logprobs(e.logprobs)},
                                 {"finish_reason", nullptr}}});
    return c;
  }

  Json first_chunk() {
    Json c = base("chat.completion.chunk");
    c["choices"] = Json::array({{{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}},
                                 {"logprobs", nullptr}, {"finish_reason", nullptr}}});
    return c;
  }

  Json final_chunk(const JobEvent& e) {
    Json c = base(r_.chat ? "chat.completion.chunk" : "text_completion");
    Json choice = {{"index", 0}};
    if (r_.chat) choice["delta"] = Json::object();
    else choice["text"] = "";
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = finish_reason(e);
    c["choices"] = Json::array({choice});
    return c;
  }

  Json usage_chunk(const JobEvent& e) {
    Json c = base(r_.chat ? "chat.completion.chunk" : "text_completion");
    c["choices"] = Json::array();
    c["usage"] = usage(e);
    return c;
  }

  // The whole response, after the last event has gone through chunk().
  Json whole(const JobEvent& e) {
    Json c = base(r_.chat ? "chat.completion" : "text_completion");
    Json choice = {{"index", 0}};
    if (r_.chat) {
      Json message = {{"role", "assistant"}};
      const bool calls = r_.has_tools && !parser_.tool_calls().empty();
      message["content"] = parser_.content().empty() && calls ? Json(nullptr) : Json(parser_.content());
      if (r_.thinking) message["reasoning_content"] = parser_.reasoning();
      if (calls) {
        Json list = Json::array();
        for (size_t i = 0; i < parser_.tool_calls().size(); ++i) {
          const ReplyToolCall& t = parser_.tool_calls()[i];
          list.push_back({{"id", call_id(int(i))}, {"type", "function"},
                          {"function", {{"name", t.name}, {"arguments", t.arguments}}}});
        }
        message["tool_calls"] = list;
      }
      choice["message"] = message;
      choice["logprobs"] = r_.logprobs ? Json{{"content", all_logprobs_}} : Json(nullptr);
    } else {
      choice["text"] = text_;
      choice["logprobs"] = r_.logprobs ? completion_logprobs(all_completion_logprobs_) : Json(nullptr);
    }
    choice["finish_reason"] = finish_reason(e);
    c["choices"] = Json::array({choice});
    c["usage"] = usage(e);
    return c;
  }

 private:
  Json base(const char* object) const {
    return {{"id", id_}, {"object", object}, {"created", created_}, {"model", r_.model},
            {"system_fingerprint", "dsv4"}};
  }
  std::string finish_reason(const JobEvent& e) const {
    if (e.finish == FinishReason::kLength) return "length";
    if (r_.chat && r_.has_tools && !parser_.tool_calls().empty()) return "tool_calls";
    return "stop";
  }
  Json usage(const JobEvent& e) const {
    return {{"prompt_tokens", e.prompt_tokens},
            {"completion_tokens", e.completion_tokens},
            {"total_tokens", e.prompt_tokens + e.completion_tokens},
            {"prompt_tokens_details", {{"cached_tokens", e.cached_tokens}}}};
  }
  std::string call_id(int index) {
    while (int(call_ids_.size()) <= index) call_ids_.push_back(random_id("call_"));
    return call_ids_[size_t(index)];
  }
  std::string piece(int32_t token) const {
    Result<std::string_view> p = tokenizer_.piece(token);
    return p ? std::string(p.value()) : std::string();
  }
  Json token_json(int32_t token, float logprob) const {
    const std::string p = piece(token);
    Json bytes = Json::array();
    for (unsigned char ch : p) bytes.push_back(int(ch));
    return {{"token", p}, {"logprob", logprob}, {"bytes", bytes}};
  }
  void append_logprobs(const std::vector<SampledToken>& ts) {
    if (!r_.logprobs) return;
    for (const SampledToken& t : ts) all_logprobs_.push_back(chat_token(t));
  }
  Json chat_token(const SampledToken& t) const {
    Json j = token_json(t.token, t.logprob);
    Json top = Json::array();
    for (const TokenLogprob& a : t.top) top.push_back(token_json(a.token, a.logprob));
    j["top_logprobs"] = top;
    return j;
  }
  Json chat_logprobs(const std::vector<SampledToken>& ts) const {
    if (!r_.logprobs) return nullptr;
    Json content = Json::array();
    for (const SampledToken& t : ts) content.push_back(chat_token(t));
    return {{"content", content}};
  }
  Json completion_logprobs(const std::vector<SampledToken>& ts) {
    if (!r_.logprobs) return nullptr;
    if (&ts != &all_completion_logprobs_)
      all_completion_logprobs_.insert(all_completion_logprobs_.end(), ts.begin(), ts.end());
    Json tokens = Json::array(), lps = Json::array(), top = Json::array();
    for (const SampledToken& t : ts) {
      tokens.push_back(piece(t.token));
      lps.push_back(t.logprob);
      Json alts = Json::object();
      for (const TokenLogprob& a : t.top) alts[piece(a.token)] = a.logprob;
      top.push_back(alts);
    }
    return {{"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", top}};
  }

  const ApiRequest& r_;
  const Tokenizer& tokenizer_;
  ReplyParser parser_;
  std::string id_;
  int64_t created_;
  std::string text_;  // completions: the whole text
  std::vector<std::string> call_ids_;
  Json all_logprobs_ = Json::array();
  std::vector<SampledToken> all_completion_logprobs_;
};

std::string sse(const Json& j) { return "data: " + dump(j) + "\n\n"; }

// The socket of the connection a request came on, found by its addresses (-1 if none matches):
// cpp-httplib 0.11 shows a handler no socket, and a non-streaming reply needs it to notice a client that
// went away while its job runs. The thread serving the request owns the connection until the handler
// returns, so the descriptor cannot be closed or reused meanwhile.
int connection_socket(const httplib::Request& req) {
  const auto numeric = [](const sockaddr_storage& a, socklen_t len, std::string& host, int& port) {
    char h[NI_MAXHOST], p[NI_MAXSERV];
    if (getnameinfo(reinterpret_cast<const sockaddr*>(&a), len, h, sizeof h, p, sizeof p,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
      return false;
    host = h;
    port = std::atoi(p);
    return true;
  };
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    const int fd = std::atoi(entry.path().filename().c_str());
    sockaddr_storage peer{}, local{};
    socklen_t peer_len = sizeof peer, local_len = sizeof local;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0)
      continue;
    std::string peer_host, local_host;
    int peer_port = 0, local_port = 0;
    if (numeric(peer, peer_len, peer_host, peer_port) && numeric(local, local_len, local_host, local_port) &&
        peer_port == req.remote_port && local_port == req.local_port && peer_host == req.remote_addr)
      return fd;
  }
  return -1;
}

// A client waiting for its reply never half-closes, so a hang-up (or an error) on its socket means it left.
bool client_gone(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

}  // namespace

struct HttpServer::Impl {
  Impl(ModelBundle& b, const ServeOptions& o)
      : bundle(b), options(o),
        scheduler(*b.model, b.tokenizer, {.parallel = o.parallel, .context = o.context, .max_queue = o.max_queue}),
        trie(std::make_shared<VocabTrie>(
            b.tokenizer, std::min<int64_t>(b.model->config().vocab_size, b.tokenizer.vocab_size()))) {}

  void handle(const httplib::Request& req, httplib::Response& res, bool chat);
  void stream(std::shared_ptr<ApiRequest> r, std::shared_ptr<Job> job, httplib::Response& res);

  ModelBundle& bundle;
  ServeOptions options;
  Scheduler scheduler;
  std::shared_ptr<const VocabTrie> trie;  // for constrained decoding, built once
  httplib::Server http;
  int port = 0;
};

void HttpServer::Impl::handle(const httplib::Request& req, httplib::Response& res, bool chat) {
  auto parsed = chat ? parse_chat_request(req.body, options.model_id) : parse_completion_request(req.body, options.model_id);
  if (auto* e = std::get_if<ApiError>(&parsed)) return send_error(res, *e);
  auto r = std::make_shared<ApiRequest>(std::move(std::get<ApiRequest>(parsed)));
  Result<std::vector<int32_t>> ids =
      r->prompt_has_bos ? bundle.tokenizer.encode(r->prompt) : bundle.tokenizer.encode_with_bos(r->prompt);
  if (!ids) return send_error(res, {.message = ids.status().message(), .param = chat ? "messages" : "prompt"});
  if (ids->empty()) return send_error(res, {.message = "the prompt is empty", .param = "prompt"});
  const int64_t n = int64_t(ids->size());
  if (n >= scheduler.context()) {
    return send_error(res, {.message = fmt::format("This model's maximum context length is {} tokens. However, your "
                                                   "prompt is {} tokens (at least one must be left to generate).",
                                                   scheduler.context(), n),
                            .param = chat ? "messages" : "prompt",
                            .code = "context_length_exceeded"});
  }
  const int64_t left = scheduler.context() - n;
  r->options.max_tokens = int(r->max_tokens_given ? std::min<int64_t>(r->options.max_tokens, left) : left);
  r->options.eos_id = bundle.eos_id;
  if (r->grammar) r->options.constraint = std::make_shared<TokenConstraint>(r->grammar, trie, bundle.eos_id);
  auto job = std::make_shared<Job>(std::move(ids.value()), 0, r->options);
  if (!scheduler.submit(job)) {
    return send_error(res, {.status = 429,
                            .message = "the server is busy: too many requests are waiting; retry later",
                            .type = "rate_limit_error",
                            .code = "queue_full"});
  }
  if (r->stream) return stream(std::move(r), std::move(job), res);

  Reply reply(*r, bundle.tokenizer);
  JobEvent e;
  const int socket = connection_socket(req);
  for (;;) {
    const bool got = job->next(e, std::chrono::milliseconds(200));
    if (socket >= 0 && client_gone(socket)) {
      job->cancel();  // free its session (or its place in the queue) at the next round
      return;
    }
    if (!got) continue;
    if (!e.error.empty()) return send_error(res, {.status = 500, .message = e.error, .type = "server_error"});
    reply.chunk(e);
    if (e.last) break;
  }
  res.set_content(dump(reply.whole(e)), "application/json");
}

void HttpServer::Impl::stream(std::shared_ptr<ApiRequest> r, std::shared_ptr<Job> job, httplib::Response& res) {
  auto reply = std::make_shared<Reply>(*r, bundle.tokenizer);
  auto started = std::make_shared<bool>(false);
  auto idle = std::make_shared<int>(0);
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [r, job, reply, started, idle](size_t, httplib::DataSink& sink) {
        if (!*started) {
          *started = true;
          const std::string first = r->chat ? sse(reply->first_chunk()) : std::string();
          if (!first.empty() && !sink.write(first.data(), first.size())) return false;
        }
        JobEvent e;
        if (!job->next(e, std::chrono::milliseconds(200))) {
          // Nothing yet (queued, or a long prefill): an SSE comment now and then finds a client that left.
          if (++*idle % 5 != 0) return true;  // called again
          static constexpr std::string_view kPing = ": keep-alive\n\n";
          return sink.write(kPing.data(), kPing.size());
        }
        *idle = 0;
        std::string out;
        if (!e.error.empty()) {
          out = sse(to_json(ApiError{.status = 500, .message = e.error, .type = "server_error"}));
        } else {
          if (std::optional<Json> c = reply->chunk(e)) out += sse(*c);
          if (e.last) {
            out += sse(reply->final_chunk(e));
            if (r->include_usage) out += sse(reply->usage_chunk(e));
          }
        }
        if (e.last || !e.error.empty()) out += "data: [DONE]\n\n";
        if (!out.empty() && !sink.write(out.data(), out.size())) return false;
        if (e.last || !e.error.empty()) sink.done();
        return true;
      },
      [job](bool success) {
        if (!success) job->cancel();  // the client went away: free its session at the next round
      });
}

HttpServer::HttpServer(ModelBundle& bundle, const ServeOptions& options)
    : impl_(std::make_unique<Impl>(bundle, options)) {
  Impl& s = *impl_;
  httplib::Server& h = s.http;
  // Every waiting or streaming request holds a thread.
  const size_t threads = size_t(std::max(options.parallel, 1) + options.max_queue + 4);
  h.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  h.set_payload_max_length(options.max_body);
  h.set_read_timeout(60, 0);
  h.set_write_timeout(60, 0);
  h.set_pre_routing_handler([&s](const httplib::Request& req, httplib::Response& res) {
    if (s.options.api_key.empty() || req.path.rfind("/v1/", 0) != 0) return httplib::Server::HandlerResponse::Unhandled;
    if (req.get_header_value("Authorization") == "Bearer " + s.options.api_key)
      return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, {.status = 401, .message = "Incorrect API key provided", .code = "invalid_api_key"});
    return httplib::Server::HandlerResponse::Handled;
  });
  h.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    ApiError e{.status = res.status};
    if (res.status == 404) {
      e.message = fmt::format("Unknown request URL: {} {}", req.method, req.path);
      e.code = "unknown_url";
    } else if (res.status == 413) {
      e.message = "the request body is too large";
    } else {
      e.message = fmt::format("HTTP {}", res.status);
    }
    send_error(res, e);
  });
  h.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    send_error(res, {.status = 500, .message = what, .type = "server_error"});
  });
  h.Get("/health", [&s](const httplib::Request&, httplib::Response& res) {
    const SchedulerStats st = s.scheduler.stats();
    res.set_content(dump({{"status", "ok"}, {"active", st.active}, {"queued", st.queued}, {"completed", st.completed},
                          {"generated_tokens", st.generated_tokens}}),
                    "application/json");
  });
  h.Get("/v1/models", [&s](const httplib::Request&, httplib::Response& res) {
    res.set_content(dump({{"object", "list"},
                          {"data", Json::array({{{"id", s.options.model_id}, {"object", "model"}, {"created", 0},
                                                 {"owned_by", "dsv4"}, {"max_model_len", s.options.context}}})}}),
                    "application/json");
  });
  h.Post("/v1/chat/completions",
         [&s](const httplib::Request& req, httplib::Response& res) { s.handle(req, res, true); });
  h.Post("/v1/completions", [&s](const httplib::Request& req, httplib::Response& res) { s.handle(req, res, false); });
}

HttpServer::~HttpServer() = default;

Result<int> HttpServer::bind() {
  Impl& s = *impl_;
  if (s.options.port == 0) {
    s.port = s.http.bind_to_any_port(s.options.host);
  } else {
    s.port = s.http.bind_to_port(s.options.host, s.options.port) ? s.options.port : -1;
  }
  if (s.port <= 0) return Status::error("cannot listen on {}:{}", s.options.host, s.options.port);
  return s.port;
}

void HttpServer::run() { impl_->http.listen_after_bind(); }

void HttpServer::stop() { impl_->http.stop(); }

}  // namespace dsv4
