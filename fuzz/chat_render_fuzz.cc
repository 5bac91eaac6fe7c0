// libFuzzer target: render_chat_text on arbitrary bytes (read as a JSON request, cases.jsonl's records are
// the seeds). Beyond not crashing: an error is one line and a rendered prompt is valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/check.h"
#include "text/chat_request.h"
#include "text/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const dsv4::Result<std::string> prompt =
      dsv4::render_chat_text(std::string_view(reinterpret_cast<const char*>(data), size));
  if (prompt) {
    DSV4_CHECK(dsv4::is_valid_utf8(prompt.value()));
  } else {
    const std::string& message = prompt.status().message();
    DSV4_CHECK(!message.empty() && message.find('\n') == std::string::npos);
  }
  return 0;
}
