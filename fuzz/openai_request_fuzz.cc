// libFuzzer target: the OpenAI request parser (server/openai_request.cc) on arbitrary bodies, as both
// endpoints. Beyond not crashing or throwing (nlohmann's exceptions included): a rejection is a 400 or
// a 404 (unknown model) with a one-line message that serialises; an accepted request carries options in
// the documented ranges, so nothing downstream sees an out-of-range value.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "base/check.h"
#include "server/openai_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dsv4;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (const bool chat : {true, false}) {
    const auto parsed = chat ? parse_chat_request(body, "dsv4") : parse_completion_request(body, "dsv4");
    if (const ApiError* e = std::get_if<ApiError>(&parsed)) {
      DSV4_CHECK(e->status == 400 || e->status == 404);
      DSV4_CHECK(!e->message.empty() && e->message.find('\n') == std::string::npos);
      (void)to_json(*e).dump();  // throws on invalid UTF-8, which must not reach an error message
      continue;
    }
    const ApiRequest& r = std::get<ApiRequest>(parsed);
    DSV4_CHECK(r.chat == chat);
    DSV4_CHECK(r.options.max_tokens >= 0 && r.options.stop.size() <= 4);
    DSV4_CHECK(r.top_logprobs >= 0 && r.top_logprobs <= 20);
    DSV4_CHECK(r.options.sampling.temperature >= 0.0f && r.options.sampling.temperature <= 2.0f);
    DSV4_CHECK(r.options.sampling.top_p >= 0.0f && r.options.sampling.top_p <= 1.0f);
  }
  return 0;
}
