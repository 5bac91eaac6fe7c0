#include "model/kv_rows.h"

#include <cmath>
#include <cstring>

#include "base/check.h"
#include "base/float_formats.h"
#include "kernels/index_score.h"
#include "kernels/quantize.h"

namespace dsv4 {

namespace {

// The e8m0 byte of a power-of-two scale (2^k → k + 127; pow2_scale never gives a subnormal here: the
// amax floors keep k ≥ −126).
uint8_t e8m0_of_pow2(float s) { return uint8_t((f32_bits(s) >> 23) & 0xff); }

// Quantizes one block as kernels/quantize.cc's simulation does and returns its scale.
template <uint8_t (*Encode)(float)>
float encode_block(const float* x, int n, float max, float floor, uint8_t* codes) {
  float amax = 0.0f;
  for (int i = 0; i < n; ++i) amax = std::fmax(amax, std::fabs(x[i]));
  const float s = pow2_scale(std::fmax(amax, floor), 1.0f / max);
  for (int i = 0; i < n; ++i) codes[i] = Encode(std::fmin(std::fmax(x[i] / s, -max), max));
  return s;
}

}  // namespace

Result<KvFormat> parse_kv_format(std::string_view name) {
  if (name == "f32") return KvFormat{KvElem::kF32, KvElem::kF32};
  if (name == "bf16") return KvFormat{KvElem::kBF16, KvElem::kBF16};
  if (name == "fp8") return KvFormat{KvElem::kFp8, KvElem::kFp4};
  if (name == "fp8-idx8") return KvFormat{KvElem::kFp8, KvElem::kFp8};
  return Status::error("unknown KV format '{}' (expected one of: {})", name, kKvFormatNames);
}

std::string kv_format_name(KvFormat f) {
  if (f == KvFormat{KvElem::kF32, KvElem::kF32}) return "f32";
  if (f == KvFormat{KvElem::kBF16, KvElem::kBF16}) return "bf16";
  if (f == KvFormat{KvElem::kFp8, KvElem::kFp4}) return "fp8";
  if (f == KvFormat{KvElem::kFp8, KvElem::kFp8}) return "fp8-idx8";
  return "custom";
}

int64_t KvRowLayout::scale_bytes() const {
  if (elem != KvElem::kFp8 && elem != KvElem::kFp4) return 0;
  return (width - tail) / block;
}

int64_t KvRowLayout::bytes() const {
  switch (elem) {
    case KvElem::kF32: return int64_t(width) * 4;
    case KvElem::kBF16: return int64_t(width) * 2;
    case KvElem::kFp8: return int64_t(width - tail) + scale_bytes() + int64_t(tail) * 2;
    case KvElem::kFp4: return int64_t(width) / 2 + scale_bytes();
  }
  return 0;
}

KvRowLayout kv_main_layout(KvElem e, int head_dim, int rope_dims) {
  DSV4_CHECK(e != KvElem::kFp4);  // FP4 is for the indexer keys only
  KvRowLayout l{e, head_dim, e == KvElem::kFp8 ? rope_dims : 0, 64};
  DSV4_CHECK(e != KvElem::kFp8 || (l.width - l.tail) % l.block == 0);  // the nope dims: whole scale blocks
  return l;
}

KvRowLayout kv_key_layout(KvElem e, int index_head_dim) {
  KvRowLayout l{e, index_head_dim, 0, kFp4IndexBlock, e == KvElem::kFp4 ? kFp4TileKeys : 1};
  DSV4_CHECK(l.width % l.block == 0);
  DSV4_CHECK(e != KvElem::kFp4 || l.width <= 256);  // the FP4 store and scorer keep a row on the stack
  return l;
}

KvRows make_kv_rows(KvRowLayout layout, int64_t rows) {
  KvRows r;
  r.layout = layout;
  r.rows = rows;
  r.data.resize(size_t(layout.table_bytes(rows)));
  r.data.shrink_to_fit();
  return r;
}

void KvRows::store(int64_t i, const float* src) {
  DSV4_DCHECK(0 <= i && i < rows);
  const KvRowLayout& l = layout;
  uint8_t* p = data.data() + i * l.bytes();
  switch (l.elem) {
    case KvElem::kF32:
      std::memcpy(p, src, size_t(l.width) * 4);
      return;
    case KvElem::kBF16:
      for (int k = 0; k < l.width; ++k) {
        const uint16_t h = f32_to_bf16(src[k]);
        std::memcpy(p + 2 * k, &h, 2);
      }
      return;
    case KvElem::kFp8: {
      const int nq = l.width - l.tail;
      uint8_t* scales = p + nq;
      for (int b = 0; b < nq / l.block; ++b)
        scales[b] = e8m0_of_pow2(
            encode_block<f32_to_e4m3>(src + b * l.block, l.block, kFp8Max, kFp8AmaxFloor, p + b * l.block));
      uint8_t* tail = scales + nq / l.block;
      for (int k = 0; k < l.tail; ++k) {
        const uint16_t h = f32_to_bf16(src[nq + k]);
        std::memcpy(tail + 2 * k, &h, 2);
      }
      return;
    }
    case KvElem::kFp4: {
      uint8_t codes[256], scales[8];
      for (int b = 0; b < l.width / l.block; ++b)
        scales[b] = e8m0_of_pow2(
            encode_block<f32_to_e2m1>(src + b * l.block, l.block, kFp4Max, kFp4AmaxFloor, codes + b * l.block));
      fp4_tile_store(data.data(), i, l.width, codes, scales);
      return;
    }
  }
}

void KvRows::load(int64_t i, float* dst) const { load(i, i + 1, dst); }

void KvRows::load(int64_t i0, int64_t i1, float* dst) const {
  DSV4_DCHECK(0 <= i0 && i0 <= i1 && i1 <= rows);
  const KvRowLayout& l = layout;
  const uint8_t* p = data.data() + i0 * l.bytes();
  switch (l.elem) {
    case KvElem::kF32:
      if (i1 > i0) std::memcpy(dst, p, size_t((i1 - i0) * l.width) * 4);
      return;
    case KvElem::kBF16:
      bf16_decode(p, (i1 - i0) * l.width, dst);
      return;
    case KvElem::kFp8:
      e4m3_decode_rows(p, i1 - i0, l.bytes(), l.width, l.tail, l.block, dst);
      return;
    case KvElem::kFp4:
      for (int64_t i = i0; i < i1; ++i) fp4_tile_load(data.data(), i, l.width, dst + (i - i0) * l.width);
      return;
  }
}

void kv_round_trip(const KvRowLayout& layout, float* row) {
  if (layout.elem == KvElem::kF32) return;
  thread_local KvRows one;
  const KvRowLayout& l = one.layout;
  if (one.rows != 1 || l.elem != layout.elem || l.width != layout.width || l.tail != layout.tail ||
      l.block != layout.block)
    one = make_kv_rows(layout, 1);
  one.store(0, row);
  one.load(0, row);
}

}  // namespace dsv4
