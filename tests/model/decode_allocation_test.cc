// A decode step allocates nothing once earlier steps have sized the scratch (arenas, kernel buffers;
// buffers that follow the context grow geometrically): global operator new is replaced here to count.
// The model is synthetic and wide enough that the products run on every thread.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <new>

#include "base/thread_pool.h"
#include "model/synthetic.h"
#include "runtime/session.h"
#include "test_util.h"

namespace {
std::atomic<int64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t al = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t al = static_cast<std::size_t>(a);
  return std::aligned_alloc(al, (n + al - 1) / al * al);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t& t) noexcept { return operator new(n, a, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace dsv4 {
namespace {

TEST(DecodeAllocation, StepsAfterTheFirstAllocateNothing) {
  ASSERT_GE(default_thread_pool().size(), 2) << "the test needs the products threaded";
  const std::string dir = (std::filesystem::temp_directory_path() / "dsv4-decode-allocation-model").string();
  ASSERT_TRUE(write_synthetic_model(testing::source_path("configs/long-v4-tiny.json"), dir, 1, default_thread_pool()).is_ok());
  auto loaded = Model::load(dir);
  ASSERT_TRUE(loaded) << loaded.status().message();
  const std::unique_ptr<Model> model = std::move(loaded).value();
  Session s(*model, 1024);
  ASSERT_TRUE(s.sync(std::vector<int32_t>{1, 2, 3, 4, 5, 6, 7, 8}).is_ok());
  for (int32_t t = 0; t < 64; ++t) ASSERT_TRUE(s.append(10 + t).is_ok());  // scratch reaches its size
  const int64_t before = g_allocations.load();
  for (int32_t t = 0; t < 16; ++t) ASSERT_TRUE(s.append(100 + t).is_ok());
  EXPECT_EQ(g_allocations.load() - before, 0) << "heap allocations in 16 decode steps";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dsv4
