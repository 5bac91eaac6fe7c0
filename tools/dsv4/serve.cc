// dsv4 serve: the OpenAI-compatible HTTP server (src/server). Binds to loopback unless told otherwise;
// SIGINT / SIGTERM stop it.
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "app/model_bundle.h"
#include "commands.h"
#include "server/http_server.h"

namespace dsv4 {

int run_serve(const ServeCliOptions& o) {
  // Block the stop signals in every thread (those started later inherit the mask); one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that disconnects must not end the server

  auto bundle = load_model_bundle(o.model);
  if (!bundle) {
    fmt::print(stderr, "dsv4 serve: {}\n", bundle.status().message());
    return 1;
  }
  ServeOptions so;
  so.host = o.host;
  so.port = o.port;
  so.api_key = o.api_key;
  so.context = o.ctx;
  so.parallel = o.parallel;
  so.max_queue = o.max_queue;
  so.max_body = size_t(o.max_body_kib) * 1024;
  so.model_id = o.model_id.empty() ? std::filesystem::path(o.model).filename().string() : o.model_id;
  if (so.model_id.empty()) so.model_id = std::filesystem::path(o.model).parent_path().filename().string();
  HttpServer server(bundle.value(), so);
  auto port = server.bind();
  if (!port) {
    fmt::print(stderr, "dsv4 serve: {}\n", port.status().message());
    return 1;
  }
  fmt::print("dsv4 serve: listening on http://{}:{} (model '{}', {} session(s) of {} tokens)\n", so.host,
             port.value(), so.model_id, so.parallel, so.context);
  std::fflush(stdout);
  std::thread watcher([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server.stop();
  });
  server.run();
  // run() also returns when listening fails; wake the watcher so it can be joined.
  pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  fmt::print(stderr, "dsv4 serve: stopped\n");
  return 0;
}

}  // namespace dsv4
