// KvRows: a table of fixed-width KV rows held in one storage format, and the formats themselves. The
// model computes every row in FP32 (with its own FP8 / FP4 simulation already applied) and stores it
// here; readers get FP32 back. Encoding uses the same power-of-two block scales as the simulation
// (kernels/quantize.h), so a row that is already on the format's grid round-trips exactly.
//
//   kF32   width × 4 B                                        (the engine's original cache)
//   kBF16  width × 2 B                                        (what the reference's buffers hold)
//   kFp8   (width − tail) e4m3 codes, one e8m0 scale per block, then `tail` BF16 values
//          (main rows: nope dims FP8 in 64-blocks, RoPE dims BF16 — DeepSeek's deployed layout)
//   kFp4   width e2m1 codes, two per byte, one e8m0 scale per block (indexer keys: FP4 in 32-blocks),
//          stored in tiles of 16 rows for the integer scorer (kernels/index_score.h); a table's rows
//          are padded to whole tiles
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace dsv4 {

enum class KvElem : uint8_t { kF32, kBF16, kFp8, kFp4 };

// The storage format of one sequence's cache: main rows (window rings and compressed entries) and the
// lightning indexer's keys. Compressor state is always FP32 (raw per-token inputs, a few slots).
struct KvFormat {
  KvElem rows = KvElem::kF32;        // kF32, kBF16 or kFp8
  KvElem index_keys = KvElem::kF32;  // kF32, kBF16, kFp8 or kFp4
  bool operator==(const KvFormat&) const = default;
};

// Names: "f32" (default), "bf16" (all BF16, the reference), "fp8" (FP8 nope + BF16 RoPE, FP4 indexer
// keys: the deployed format), "fp8-idx8" (the same with FP8 indexer keys).
Result<KvFormat> parse_kv_format(std::string_view name);
std::string kv_format_name(KvFormat f);
inline constexpr const char* kKvFormatNames = "f32, bf16, fp8, fp8-idx8";

// Layout of one row: `width` values, the last `tail` of which stay BF16 in kFp8 (0 otherwise), scales
// per `block` values of the quantized part; rows are stored in tiles of `tile` rows.
struct KvRowLayout {
  KvElem elem = KvElem::kF32;
  int width = 0, tail = 0, block = 0, tile = 1;
  int64_t bytes() const;        // stored bytes of one row, scales included
  int64_t scale_bytes() const;  // of which scales
  int64_t padded_rows(int64_t rows) const { return (rows + tile - 1) / tile * tile; }
  int64_t table_bytes(int64_t rows) const { return padded_rows(rows) * bytes(); }  // what a table allocates
};

// The layouts the cache uses: main rows (head_dim wide, rope_dims RoPE tail, FP8 blocks of 64) and
// indexer keys (index_head_dim wide, FP8 / FP4 blocks of 32, no tail: Hadamard mixes every dim).
KvRowLayout kv_main_layout(KvElem e, int head_dim, int rope_dims);
KvRowLayout kv_key_layout(KvElem e, int index_head_dim);

struct KvRows {
  KvRowLayout layout;
  int64_t rows = 0;
  std::vector<uint8_t> data;  // layout.table_bytes(rows): [rows, layout.bytes()] (kFp4: in tiles)

  void store(int64_t i, const float* src);       // src [width], quantized as the layout says
  void load(int64_t i, float* dst) const;        // dst [width]
  void load(int64_t i0, int64_t i1, float* dst) const;  // rows [i0, i1) → dst [i1 − i0, width]
  // Row i in place, for kF32 only (no copy).
  const float* f32_row(int64_t i) const { return reinterpret_cast<const float*>(data.data() + i * layout.bytes()); }
  bool is_f32() const { return layout.elem == KvElem::kF32; }
  int64_t allocated_bytes() const { return int64_t(data.capacity()); }
};

KvRows make_kv_rows(KvRowLayout layout, int64_t rows);

// src → what a store + load would give, in place: how in-flight rows of a call are made to equal the
// rows later calls read back from the cache.
void kv_round_trip(const KvRowLayout& layout, float* row);

}  // namespace dsv4
