// libFuzzer target: the safetensors header parser on arbitrary bytes.
#include <cstddef>
#include <cstdint>

#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = dsv4::parse_safetensors(data, size, "fuzz");
  if (r) {
    uint8_t sink = 0;
    for (const dsv4::TensorView& t : r->tensors)
      if (t.nbytes > 0) sink ^= t.data[0] ^ t.data[t.nbytes - 1];  // views must lie inside the input
    (void)sink;
  }
  return 0;
}
