// SafetensorsWriter: round trip through SafetensorsFile with tensors streamed out of order, in pieces
// and from two threads; incomplete or overfull tensors fail and leave no file behind.
#include "io/safetensors_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "io/safetensors.h"

namespace dsv4 {
namespace {

namespace fs = std::filesystem;

class SafetensorsWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("dsv4_stw_{}_{}", ::getpid(), counter_++);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
  static inline int counter_ = 0;
};

// Byte j of tensor i: distinct per tensor and position.
uint8_t pattern(size_t i, size_t j) { return uint8_t(i * 37 + j * 11 + (j >> 8)); }

TEST_F(SafetensorsWriterTest, StreamsOutOfOrderFromTwoThreadsAndRoundTrips) {
  std::vector<SafetensorsTensorInfo> infos = {
      {"w.scale", DType::kF8E8M0, {3, 5}},      {"big", DType::kBF16, {1000, 700}},
      {"bias", DType::kF32, {7}},               {"ids", DType::kI64, {3, 2}},
      {"codes", DType::kI8, {2, 3000001}},      {"empty", DType::kF32, {0, 4}},
  };
  auto w = SafetensorsWriter::create(path("m.safetensors"), infos, {{"k", "v"}});
  ASSERT_TRUE(w) << w.status().message();
  const auto fill = [&](size_t i, std::vector<uint8_t>& buffer) {
    TensorSink s = w->sink(i, buffer);
    const size_t n = size_t(w->nbytes(i));
    for (size_t j = 0; j < n;) {  // uneven pieces, some larger than the sink's buffer
      const size_t piece = std::min(n - j, size_t(1 + (j * 7919) % (3 << 20)));
      uint8_t* p = s.append(piece);
      for (size_t k = 0; k < piece; ++k) p[k] = pattern(i, j + k);
      j += piece;
    }
    return s.close();
  };
  Status a, b;
  std::thread t([&] {
    std::vector<uint8_t> buffer;
    for (size_t i : {4u, 0u, 2u}) a = a.is_ok() ? fill(i, buffer) : a;
  });
  std::vector<uint8_t> buffer;
  for (size_t i : {5u, 3u, 1u}) b = b.is_ok() ? fill(i, buffer) : b;
  t.join();
  ASSERT_TRUE(a.is_ok()) << a.message();
  ASSERT_TRUE(b.is_ok()) << b.message();
  ASSERT_TRUE(w->finish().is_ok());
  EXPECT_FALSE(fs::exists(path("m.safetensors.tmp")));

  auto f = SafetensorsFile::open(path("m.safetensors"));
  ASSERT_TRUE(f) << f.status().message();
  EXPECT_EQ(f->file_bytes(), w->file_bytes());
  EXPECT_EQ(f->metadata().at("k"), "v");
  ASSERT_EQ(f->tensors().size(), infos.size());
  for (size_t i = 0; i < infos.size(); ++i) {
    const TensorView* v = f->find(infos[i].name);
    ASSERT_NE(v, nullptr) << infos[i].name;
    EXPECT_EQ(v->dtype, infos[i].dtype);
    EXPECT_EQ(v->shape, infos[i].shape);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(v->data) % dtype_size(v->dtype), 0u) << v->name;
    size_t wrong = 0;
    for (size_t j = 0; j < size_t(v->nbytes); ++j) wrong += v->data[j] != pattern(i, j);
    EXPECT_EQ(wrong, 0u) << v->name;
  }
}

TEST_F(SafetensorsWriterTest, IncompleteOrOverfullTensorsFailAndLeaveNoFile) {
  {
    auto w = SafetensorsWriter::create(path("a.safetensors"), {{"x", DType::kF32, {4}}, {"y", DType::kF32, {1}}});
    ASSERT_TRUE(w);
    std::vector<uint8_t> buffer;
    TensorSink s = w->sink(0, buffer);
    s.append(12);
    const Status st = s.close();
    EXPECT_NE(st.message().find("tensor 'x' received 12 bytes"), std::string::npos) << st.message();
    TensorSink t = w->sink(1, buffer);
    t.append(8);
    EXPECT_NE(t.close().message().find("received 8 bytes"), std::string::npos);
    const Status fin = w->finish();
    EXPECT_NE(fin.message().find("tensor 'x' was not written"), std::string::npos) << fin.message();
  }
  EXPECT_FALSE(fs::exists(path("a.safetensors")));
  EXPECT_FALSE(fs::exists(path("a.safetensors.tmp")));
}

TEST_F(SafetensorsWriterTest, RejectsDuplicateNamesAndUnwritableDirectories) {
  auto dup = SafetensorsWriter::create(path("d.safetensors"), {{"x", DType::kF32, {1}}, {"x", DType::kI8, {1}}});
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.status().message().find("'x'"), std::string::npos);
  auto bad = SafetensorsWriter::create(path("missing/dir/m.safetensors"), {{"x", DType::kF32, {1}}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("cannot create"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace dsv4
