#include "model/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/quantize.h"
#include "kernels/rmsnorm.h"
#include "kernels/rope.h"
#include "model/compressor.h"
#include "model/indexer.h"

namespace dsv4 {

namespace {

// A sequence's queries (wq_b output, in place): weightless RMS norm per head, RoPE at their positions.
void finish_queries(const LayerContext& ctx, float* q) {
  const ModelConfig& c = ctx.config;
  const int hd = c.head_dim, rd = c.rope_head_dim;
  default_thread_pool().parallel_for(ctx.n * c.n_heads, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {  // r = token · n_heads + head
      float* qh = q + r * hd;
      rmsnorm(qh, nullptr, hd, c.norm_eps, qh);
      rope_apply(qh + hd - rd, ctx.rope, ctx.start_pos + r / c.n_heads);
    }
  });
}

// A sequence's KV rows (wkv output, in place), rounded to the cache's storage format (kv_round_trip) so
// that a query reads the same values whether a row comes from this call or, in a later call, from the cache.
void finish_kv(const LayerContext& ctx, const AttentionWeights& w, const KvRowLayout& layout, float* kv) {
  const ModelConfig& c = ctx.config;
  const int hd = c.head_dim, rd = c.rope_head_dim;
  default_thread_pool().parallel_for(ctx.n, 4, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      float* row = kv + t * hd;
      rmsnorm(row, w.kv_norm.data(), hd, c.norm_eps, row);
      rope_apply(row + hd - rd, ctx.rope, ctx.start_pos + t);
      fp8_simulate(row, hd - rd, 64);  // RoPE dims stay unquantized for positional precision
      kv_round_trip(layout, row);
    }
  });
}

// FP32 views of the stored rows a call reads: in place for an FP32 cache; otherwise decoded once per call
// into the arena — the ring, and for ratio 128 every entry the call's queries may see. A sequence with
// a single query (decode) leaves its ratio-128 entries encoded: attention decodes them block by block,
// instead of writing and re-reading an FP32 copy of thousands of them. Ratio-4 entries are decoded per
// query, only the indexer's picks.
struct StoredRows {
  const float* ring;     // [window_size, head_dim]
  const float* entries;  // [rows, head_dim], ratio 128 (or any ratio when FP32); null when left encoded
  const KvRows* encoded = nullptr;  // the ratio-128 entries when left encoded
};

StoredRows stored_rows(const LayerContext& ctx, const LayerState& state) {
  const ModelConfig& c = ctx.config;
  const int ratio = c.ratio(ctx.layer);
  StoredRows v{state.window.f32_row(0), state.entries.f32_row(0)};
  if (!state.window.is_f32() && ctx.start_pos > 0) {
    float* ring = ctx.arena.alloc<float>(size_t(c.window_size) * size_t(c.head_dim));
    state.window.load(0, c.window_size, ring);
    v.ring = ring;
  }
  if (state.entries.is_f32() || ratio != 128) return v;
  if (ctx.n == 1) return {v.ring, nullptr, &state.entries};
  const int64_t n_entries = (ctx.start_pos + ctx.n) / ratio;
  float* entries = ctx.arena.alloc<float>(size_t(std::max<int64_t>(n_entries, 1) * c.head_dim));
  default_thread_pool().parallel_for(n_entries, 256, [&](int64_t e0, int64_t e1) {
    state.entries.load(e0, e1, entries + e0 * c.head_dim);
  });
  v.entries = entries;
  return v;
}

// The entries a query at `pos` attends to, in order: the window (oldest first; earlier calls' rows from
// the ring, this call's rows from `kv` — the ring is written only after every query of the call has
// read it), then the compressed entries (the indexer's picks, or every complete one). Picks are copied
// (decoded) into `pick_rows` [index_topk, head_dim], so that attention reads them as one run of rows.
int gather_entries(const LayerContext& ctx, const LayerState& state, const StoredRows& stored, const float* kv,
                   int64_t t, const IndexerPicks& picks, float* pick_rows, const float** list) {
  const ModelConfig& c = ctx.config;
  const int ratio = c.ratio(ctx.layer);
  const int64_t pos = ctx.start_pos + t;
  int n = 0;
  for (int64_t p = std::max<int64_t>(0, pos - c.window_size + 1); p <= pos; ++p)
    list[n++] = p >= ctx.start_pos ? kv + (p - ctx.start_pos) * c.head_dim
                                   : stored.ring + (p % c.window_size) * c.head_dim;
  if (ratio == 4) {
    for (int i = 0; i < picks.count[t]; ++i) {
      state.entries.load(picks.ids[t * c.index_topk + i], pick_rows + int64_t(i) * c.head_dim);
      list[n++] = pick_rows + int64_t(i) * c.head_dim;
    }
  } else if (ratio && stored.entries) {
    for (int64_t e = 0; e < (pos + 1) / ratio; ++e) list[n++] = stored.entries + e * c.head_dim;
  }
  return n;
}

// The compressed entries a query at `pos` reads that gather_entries left encoded.
EncodedRows encoded_entries(const LayerContext& ctx, const StoredRows& stored, int64_t pos) {
  if (!stored.encoded) return {};
  const KvRows& entries = *stored.encoded;
  return {(pos + 1) / ctx.config.ratio(ctx.layer),
          [&entries](int64_t i0, int64_t i1, float* dst) { entries.load(i0, i1, dst); }};
}

// One query position, all heads, then the output's RoPE dims rotated back to relative positions.
void attend(const LayerContext& ctx, const AttentionWeights& w, const float* const* list, int n_list,
            const EncodedRows& encoded, const float* qt, int64_t pos, float* ot) {
  const ModelConfig& c = ctx.config;
  const int hd = c.head_dim, rd = c.rope_head_dim;
  sparse_attention(qt, c.n_heads, hd, list, n_list, encoded, w.sink, float(1.0 / std::sqrt(double(hd))), ot);
  for (int h = 0; h < c.n_heads; ++h) rope_apply(ot + h * hd + hd - rd, ctx.rope, pos, /*inverse=*/true);
}

void write_window(const LayerContext& ctx, LayerState& state, const float* kv) {
  const ModelConfig& c = ctx.config;
  for (int64_t t = std::max<int64_t>(0, ctx.n - c.window_size); t < ctx.n; ++t)
    state.window.store((ctx.start_pos + t) % c.window_size, kv + t * c.head_dim);
}

// u[g] = o[g] · wo_a[g]ᵀ for each group of n_heads / o_groups consecutive heads (one matmul batch), then
// out = wo_b(u).
void output_projection(const LayerBatch& batch, const AttentionWeights& w, const float* o, float* out) {
  const ModelConfig& c = batch.config();
  Arena& arena = batch.arena();
  const int64_t n = batch.rows;
  const int64_t G = c.o_groups, R = c.o_lora_rank, group_width = int64_t(c.n_heads) * c.head_dim / G;
  float* u = arena.alloc<float>(size_t(n * G * R));
  // One row: each group's input and output are slices of o and u. More: gathered and scattered.
  float* og = n == 1 ? nullptr : arena.alloc<float>(size_t(G * n * group_width));
  float* ug = n == 1 ? nullptr : arena.alloc<float>(size_t(G * n * R));
  WeightMatrix* groups = arena.alloc<WeightMatrix>(size_t(G));
  MatmulJob* jobs = arena.alloc<MatmulJob>(size_t(G));
  for (int64_t g = 0; g < G; ++g) {
    groups[g] = weight_rows(w.wo_a, g * R, (g + 1) * R);
    if (n == 1) {
      jobs[g] = {&groups[g], o + g * group_width, 1, u + g * R};
      continue;
    }
    float* x = og + g * n * group_width;
    for (int64_t t = 0; t < n; ++t) std::copy_n(o + (t * G + g) * group_width, group_width, x + t * group_width);
    jobs[g] = {&groups[g], x, n, ug + g * n * R};
  }
  matmul_batch({jobs, size_t(G)});
  if (n > 1)
    for (int64_t g = 0; g < G; ++g)
      for (int64_t t = 0; t < n; ++t) std::copy_n(ug + (g * n + t) * R, R, u + t * G * R + g * R);
  matmul(w.wo_b, u, n, out);
}

// What a sequence's queries read besides the call's own KV rows: its stored rows and, for ratio 4, the
// indexer's picks.
struct SequenceReads {
  StoredRows stored;
  IndexerPicks picks;
  const float* kv;  // the sequence's rows of the call's KV
  int64_t max_list;
};

// Everything of one sequence that touches its state before the queries attend: RoPE of its queries and
// KV rows, its compressors (which store completed entries) and the indexer.
SequenceReads prepare_sequence(const LayerContext& ctx, const AttentionWeights& w, LayerState& state, float* q,
                               float* kv, const CompressorInput* entries_in, const IndexerInput* index_in) {
  const ModelConfig& c = ctx.config;
  const int ratio = c.ratio(ctx.layer);
  finish_queries(ctx, q);
  finish_kv(ctx, w, state.window.layout, kv);
  SequenceReads r{};
  if (ratio) compressor_forward(ctx, w.compressor, CompressedKind::kAttentionKv, state.compressor, *entries_in,
                                state.entries);
  if (ratio == 4) r.picks = indexer_select(ctx, w.indexer, state, *index_in);
  r.stored = stored_rows(ctx, state);
  r.kv = kv;
  r.max_list = c.window_size + (ratio == 4 ? c.index_topk : ratio ? (ctx.start_pos + ctx.n) / ratio : 0);
  return r;
}

}  // namespace

void attention_forward(const LayerBatch& batch, const AttentionWeights& w, const float* x, float* out) {
  const ModelConfig& c = batch.config();
  Arena& arena = batch.arena();
  const int hd = c.head_dim, ratio = c.ratio(batch.layer());
  const int64_t n = batch.rows, q_width = int64_t(c.n_heads) * hd;

  // The products with the layer's weights, once over every row of the batch: those of x in one matmul
  // batch, then those of the normalised query latent qr in another.
  MatmulJobs on_x, on_qr;
  float* qr = arena.alloc<float>(size_t(n * c.q_lora_rank));
  on_x.add(w.wq_a, x, n, qr);
  float* q = arena.alloc<float>(size_t(n * q_width));
  on_qr.add(w.wq_b, qr, n, q);
  float* kv = arena.alloc<float>(size_t(n * hd));
  on_x.add(w.wkv, x, n, kv);
  CompressorInput entries_in{};
  IndexerInput index_in{};
  if (ratio) entries_in = compressor_project(w.compressor, x, n, arena, on_x);
  if (ratio == 4) index_in = indexer_project(c, w.indexer, x, qr, n, arena, on_x, on_qr);
  on_x.run();
  for (int64_t t = 0; t < n; ++t)
    rmsnorm(qr + t * c.q_lora_rank, w.q_norm.data(), c.q_lora_rank, c.norm_eps, qr + t * c.q_lora_rank);
  on_qr.run();
  if (ratio == 4) indexer_scale_head_weights(index_in, n);

  // Per sequence: its positions and its state.
  const size_t n_seqs = batch.seqs.size();
  SequenceReads* reads = arena.alloc<SequenceReads>(n_seqs);
  int32_t* row_seq = arena.alloc<int32_t>(size_t(n));  // row → its sequence
  int64_t* seq_row0 = arena.alloc<int64_t>(n_seqs);
  int64_t max_list = 0;
  for (size_t i = 0, r0 = 0; i < n_seqs; r0 += size_t(batch.seqs[i].n), ++i) {
    const LayerContext& ctx = batch.seqs[i];
    const CompressorInput entries_i = ratio ? entries_in.from_row(int64_t(r0)) : entries_in;
    const IndexerInput index_i = ratio == 4 ? index_in.from_row(int64_t(r0)) : index_in;
    reads[i] = prepare_sequence(ctx, w, *batch.states[i], q + int64_t(r0) * q_width, kv + int64_t(r0) * hd,
                                &entries_i, &index_i);
    seq_row0[i] = int64_t(r0);
    std::fill_n(row_seq + r0, ctx.n, int32_t(i));
    max_list = std::max(max_list, reads[i].max_list);
  }

  float* o = arena.alloc<float>(size_t(n * q_width));
  // Queries are independent, whichever sequence they belong to: a prefill or a batch splits them between
  // threads (their products then run on one thread each); a single query lets its products use every thread.
  default_thread_pool().parallel_for(n, 1, [&](int64_t r0, int64_t r1) {
    thread_local std::vector<const float*> list;
    thread_local std::vector<float> pick_rows;
    list.resize(size_t(max_list));
    if (ratio == 4) pick_rows.resize(size_t(c.index_topk) * size_t(hd));
    for (int64_t r = r0; r < r1; ++r) {
      const int32_t i = row_seq[r];
      const LayerContext& ctx = batch.seqs[size_t(i)];
      const SequenceReads& s = reads[i];
      const int64_t t = r - seq_row0[i];
      const int n_list = gather_entries(ctx, *batch.states[size_t(i)], s.stored, s.kv, t, s.picks, pick_rows.data(),
                                        list.data());
      const int64_t pos = ctx.start_pos + t;
      attend(ctx, w, list.data(), n_list, encoded_entries(ctx, s.stored, pos),
             q + r * q_width, pos, o + r * q_width);
    }
  });
  for (size_t i = 0; i < n_seqs; ++i) write_window(batch.seqs[i], *batch.states[i], reads[i].kv);
  output_projection(batch, w, o, out);
}

}  // namespace dsv4
