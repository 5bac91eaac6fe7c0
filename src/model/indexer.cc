#include "model/indexer.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/check.h"
#include "base/thread_pool.h"
#include "kernels/hadamard.h"
#include "kernels/index_score.h"
#include "kernels/matmul.h"
#include "kernels/quantize.h"
#include "kernels/rope.h"
#include "kernels/topk.h"
#include "model/compressor.h"

namespace dsv4 {

namespace {

// Queries: RoPE on the last rope_head_dim dims of each head, then Hadamard and FP4 simulation, in place.
void finish_queries(const LayerContext& ctx, float* q) {
  const ModelConfig& c = ctx.config;
  const int nh = c.index_n_heads, hd = c.index_head_dim, rd = c.rope_head_dim;
  default_thread_pool().parallel_for(ctx.n * nh, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {  // r = token · heads + head
      float* qh = q + r * hd;
      rope_apply(qh + hd - rd, ctx.rope, ctx.start_pos + r / nh);
      hadamard_transform(qh, hd);
      fp4_simulate(qh, hd, 32);
    }
  });
}

// Keys are scored in blocks of this many: decoded from the cache's format into a buffer that stays in
// L2, and the unit a single query splits between threads. Block boundaries are fixed (multiples of this
// from entry 0), so a query's scores do not depend on how a call splits the work.
constexpr int64_t kKeyBlock = 1024;

// The queries of one block: FP32 query-heads [nq, heads, head_dim] (and their integer form for FP4 keys),
// head weights [nq, heads]; the first at position pos0.
struct QueryBlock {
  const float* q;
  Fp4Queries q4;
  const float* head_w;
  int64_t nq, pos0;
};

// Scores of a block's queries against keys [e0, e1) (e0 a multiple of kKeyBlock): scores[i, e] =
// Σ_h relu(q_i,h · key_e) · head_w[i, h] for the keys query i may see, e < (pos0 + i + 1) / 4 (FP4 keys:
// every key of the tiles that hold [e0, e1); the caller ignores scores past a query's eligible keys).
// Other formats run as one matrix product per key block for all nq queries, so each key block is read
// once per query block rather than once per query (a query's dot products do not depend on how many
// rows share the product).
void score_entries(const ModelConfig& c, const QueryBlock& qb, const KvRows& keys, int64_t e0, int64_t e1,
                   int64_t stride, float* scores) {
  const int nh = c.index_n_heads, hd = c.index_head_dim;
  const int64_t nq = qb.nq;
  if (keys.layout.elem == KvElem::kFp4) {
    fp4_index_scores(keys.data.data(), e0 / kFp4TileKeys, (e1 + kFp4TileKeys - 1) / kFp4TileKeys, hd, qb.q4,
                     qb.head_w, nq, nh, scores, stride);
    return;
  }
  thread_local std::vector<float> dots, decoded;  // [nq, heads, block], [block, head_dim]
  for (int64_t b0 = e0; b0 < e1; b0 += kKeyBlock) {
    const int64_t len = std::min(kKeyBlock, e1 - b0);
    const float* block = keys.f32_row(b0);
    if (!keys.is_f32()) {
      decoded.resize(size_t(len * hd));
      keys.load(b0, b0 + len, decoded.data());
      block = decoded.data();
    }
    dots.resize(size_t(nq * nh * len));
    matmul(WeightMatrix{WeightFormat::kF32, len, hd, block}, qb.q, nq * nh, dots.data());
    for (int64_t i = 0; i < nq; ++i) {
      const int64_t n_eligible = std::min(len, (qb.pos0 + i + 1) / 4 - b0);
      float* si = scores + i * stride + b0;
      for (int64_t e = 0; e < n_eligible; ++e) si[e] = 0.0f;
      for (int h = 0; h < nh; ++h) {
        const float* dh = dots.data() + (i * nh + h) * len;
        const float wh = qb.head_w[i * nh + h];
        for (int64_t e = 0; e < n_eligible; ++e) si[e] += (dh[e] > 0.0f ? dh[e] : 0.0f) * wh;  // relu
      }
    }
  }
}

}  // namespace

IndexerInput indexer_project(const ModelConfig& c, const IndexerWeights& w, const float* x, const float* qr,
                             int64_t rows, Arena& arena, MatmulJobs& on_x, MatmulJobs& on_qr) {
  const int nh = c.index_n_heads, hd = c.index_head_dim;
  float* q = arena.alloc<float>(size_t(rows * nh * hd));
  on_qr.add(w.wq_b, qr, rows, q);
  float* head_w = arena.alloc<float>(size_t(rows * nh));
  on_x.add(w.weights_proj, x, rows, head_w);
  return {q, head_w, compressor_project(w.compressor, x, rows, arena, on_x), nh, hd};
}

void indexer_scale_head_weights(IndexerInput& in, int64_t rows) {
  const float weight_scale = float(1.0 / std::sqrt(double(in.head_dim)) / std::sqrt(double(in.heads)));
  for (int64_t i = 0; i < rows * in.heads; ++i) in.head_w[i] *= weight_scale;
}

IndexerPicks indexer_select(const LayerContext& ctx, const IndexerWeights& w, LayerState& state,
                            const IndexerInput& in) {
  const ModelConfig& c = ctx.config;
  const int nh = c.index_n_heads, hd = c.index_head_dim, k_max = c.index_topk;
  finish_queries(ctx, in.q);
  const float* q = in.q;
  const float* head_w = in.head_w;
  const bool fp4 = state.index_keys.layout.elem == KvElem::kFp4;
  Fp4Queries q4{};
  if (fp4) {
    const int64_t rows = ctx.n * nh, blocks = rows * hd / kFp4IndexBlock;
    q4 = {ctx.arena.alloc<int8_t>(size_t(rows * hd)), ctx.arena.alloc<float>(size_t(blocks)),
          ctx.arena.alloc<int32_t>(size_t(blocks))};
    fp4_queries_from_grid(q, rows, hd, q4);
  }
  compressor_forward(ctx, w.compressor, CompressedKind::kIndexerKey, state.index_compressor, in.keys,
                     state.index_keys);

  IndexerPicks picks{ctx.arena.alloc<int32_t>(size_t(ctx.n * k_max)), ctx.arena.alloc<int32_t>(size_t(ctx.n))};
  const int64_t max_entries = (ctx.start_pos + ctx.n) / 4;
  // Picks of query t from its scores (top-k, or the hook's choice); `split`: between the threads.
  const auto select = [&](int64_t t, float* scores, bool split) {
    const int64_t pos = ctx.start_pos + t;
    const int n_eligible = int((pos + 1) / 4);
    int32_t* row = picks.ids + t * k_max;
    int count = std::min(k_max, n_eligible);
    if (split) topk_parallel(scores, n_eligible, count, row);
    else topk(scores, n_eligible, count, row);
    if (ctx.hook) {
      std::vector<int32_t> hooked(row, row + count);
      ctx.hook->indexer(ctx.layer, pos, {scores, size_t(n_eligible)}, hooked);
      count = int(std::min<size_t>(hooked.size(), size_t(k_max)));
      for (int i = 0; i < count; ++i) {
        DSV4_CHECK(0 <= hooked[size_t(i)] && hooked[size_t(i)] < n_eligible);
        row[i] = hooked[size_t(i)];
      }
    }
    picks.count[t] = count;
  };
  constexpr int64_t kQueryBlock = 32;
  const int64_t stride = std::max<int64_t>((max_entries + kFp4TileKeys - 1) / kFp4TileKeys * kFp4TileKeys, 1);
  // A block of queries: its scores against every key it may see, then each query's picks. `split_keys`
  // spreads the key blocks over the threads (one query block alone, as in decode).
  const auto run_block = [&](int64_t b, std::vector<float>& scores, bool split_keys) {
    const int64_t t0 = b * kQueryBlock, nq = std::min(kQueryBlock, ctx.n - t0), pos0 = ctx.start_pos + t0;
    const int64_t n_keys = (pos0 + nq) / 4;
    scores.resize(size_t(nq * stride));
    const int64_t r0 = t0 * nh, b0 = r0 * hd / kFp4IndexBlock;  // first query-head, first block of them
    const QueryBlock qb{q + r0 * hd, fp4 ? Fp4Queries{q4.codes + r0 * hd, q4.scales + b0, q4.sums + b0} : q4,
                        head_w + r0, nq, pos0};
    const auto score = [&](int64_t kb0, int64_t kb1) {
      score_entries(c, qb, state.index_keys, kb0 * kKeyBlock, std::min(kb1 * kKeyBlock, n_keys), stride,
                    scores.data());
    };
    const int64_t key_blocks = (n_keys + kKeyBlock - 1) / kKeyBlock;
    if (split_keys) default_thread_pool().parallel_for(key_blocks, 1, score);
    else score(0, key_blocks);
    for (int64_t i = 0; i < nq; ++i) select(t0 + i, scores.data() + i * stride, split_keys);
  };
  const int64_t n_blocks = (ctx.n + kQueryBlock - 1) / kQueryBlock;
  if (ctx.hook) {  // the test hook is not thread-safe: one query at a time
    std::vector<float> scores;
    for (int64_t b = 0; b < n_blocks; ++b) run_block(b, scores, /*split_keys=*/false);
  } else if (n_blocks == 1) {
    thread_local std::vector<float> scores;
    run_block(0, scores, /*split_keys=*/true);
  } else {
    default_thread_pool().parallel_for(n_blocks, 1, [&](int64_t b0, int64_t b1) {
      thread_local std::vector<float> scores;
      for (int64_t b = b0; b < b1; ++b) run_block(b, scores, /*split_keys=*/false);
    });
  }
  return picks;
}

}  // namespace dsv4
