// `dsv4 serve`: the OpenAI-compatible HTTP front end (cpp-httplib). Routes:
//   GET  /health               {"status": "ok", "active", "queued", "completed"}
//   GET  /v1/models            the one served model
//   POST /v1/chat/completions  chat, stream (SSE) or not; reasoning_content, tool_calls, usage, logprobs
//   POST /v1/completions       raw prompt completion, stream or not
// Every error is OpenAI's {"error": {"message", "type", "param", "code"}} with 400 (bad request), 401
// (API key), 404 (route or model), 413 (body size) or 429 (queue full).
#pragma once

#include <memory>
#include <string>

#include "app/model_bundle.h"
#include "base/status.h"

namespace dsv4 {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;             // 0: any free port (see bind())
  std::string api_key;         // empty: no authentication
  std::string model_id;        // the id clients name in "model"
  int64_t context = 4096;      // tokens per session
  int parallel = 1;            // sessions decoding together
  int max_queue = 64;          // requests waiting for a session; more get 429
  size_t max_body = 8u << 20;  // request bytes; more get 413
};

class HttpServer {
 public:
  HttpServer(ModelBundle& bundle, const ServeOptions& options);
  ~HttpServer();
  // Binds the socket; returns the port (the chosen one when options.port is 0).
  Result<int> bind();
  // Serves until stop() (from another thread).
  void run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dsv4
