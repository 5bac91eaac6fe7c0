// libFuzzer target: config.json parsing and validation, then the tensor list for configs it accepts.
#include <cstddef>
#include <cstdint>
#include <string>

#include "model/config.h"
#include "model/tensor_list.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto c = dsv4::parse_model_config_json(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
  if (c && int64_t(c->n_total_layers()) * c->n_routed_experts <= 4096) (void)dsv4::expected_tensors(c.value());
  return 0;
}
