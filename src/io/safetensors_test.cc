// safetensors: round trip through the writer, every header rule, and a mutation fuzz loop (run under
// ASan in CI) that may only ever produce a tensor list or an error.
#include "io/safetensors.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "io/checkpoint.h"

namespace dsv4 {
namespace {

namespace fs = std::filesystem;

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("dsv4_st_{}_{}", ::getpid(), counter_++);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // A file with a raw header text followed by `data_bytes` zero bytes.
  std::string raw(const std::string& name, const std::string& header, size_t data_bytes) {
    const std::string p = path(name);
    std::ofstream f(p, std::ios::binary);
    const uint64_t n = header.size();
    f.write(reinterpret_cast<const char*>(&n), 8);
    f << header << std::string(data_bytes, '\0');
    return p;
  }

  std::string error_of(const std::string& p) {
    auto r = SafetensorsFile::open(p);
    return r ? "" : r.status().message();
  }

  fs::path dir_;
  static inline int counter_ = 0;
};

TEST_F(SafetensorsTest, RoundTripKeepsEverythingAligned) {
  std::vector<SafetensorsEntry> t = {
      {"a.scale", DType::kF8E8M0, {1, 3}, {127, 128, 129}},
      {"b", DType::kF32, {2}, std::vector<uint8_t>(8, 0)},
      {"c", DType::kBF16, {3}, {1, 2, 3, 4, 5, 6}},
      {"d", DType::kI64, {1}, std::vector<uint8_t>(8, 7)},
  };
  float two = 2.0f;
  std::memcpy(t[1].bytes.data() + 4, &two, 4);
  ASSERT_TRUE(write_safetensors(path("m.safetensors"), t, {{"k", "v"}}).is_ok());
  auto f = SafetensorsFile::open(path("m.safetensors"));
  ASSERT_TRUE(f) << f.status().message();
  EXPECT_EQ(f->metadata().at("k"), "v");
  ASSERT_EQ(f->tensors().size(), 4u);
  const TensorView* b = f->find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->shape, Shape{2});
  float got;
  std::memcpy(&got, b->data + 4, 4);
  EXPECT_EQ(got, 2.0f);
  for (const TensorView& v : f->tensors())
    EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data) % dtype_size(v.dtype), 0u) << v.name;
  EXPECT_EQ(f->find("a.scale")->data[2], 129);
  EXPECT_EQ(f->find("nope"), nullptr);
}

TEST_F(SafetensorsTest, RejectsTruncatedFiles) {
  const std::string p = path("t.safetensors");
  ASSERT_TRUE(write_safetensors(p, {{"w", DType::kF32, {4, 4}, std::vector<uint8_t>(64)}}).is_ok());
  fs::resize_file(p, fs::file_size(p) - 10);
  EXPECT_NE(error_of(p).find("tensor 'w'"), std::string::npos) << error_of(p);
  EXPECT_NE(error_of(p).find("past the end"), std::string::npos) << error_of(p);
  fs::resize_file(p, 20);
  EXPECT_NE(error_of(p).find("header length"), std::string::npos) << error_of(p);
  fs::resize_file(p, 3);
  EXPECT_NE(error_of(p).find("too short"), std::string::npos) << error_of(p);
}

TEST_F(SafetensorsTest, RejectsBadHeaders) {
  struct Case {
    std::string header;
    size_t data;
    std::string expect;
  };
  const Case cases[] = {
      {"{not json", 0, "well-formed"},
      {"[1,2]", 0, "not a JSON object"},
      {R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", 8, "past the end"},
      {R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8, "needs 12 bytes"},
      {R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", 8, "unsupported dtype 'Q4'"},
      {R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8, "non-negative"},
      {R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8, "reversed"},
      {R"({"w":{"dtype":"F32","shape":[2]}})", 8, "data_offsets"},
      {R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})", 8, "too many"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       12, "overlaps"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8, "gap"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 8, "not described"},
      {R"({"__metadata__":{"k":1}})", 0, "not a string"},
  };
  for (const Case& c : cases) {
    const std::string p = raw("bad.safetensors", c.header, c.data);
    const std::string e = error_of(p);
    EXPECT_NE(e.find(c.expect), std::string::npos) << c.header << " -> " << e;
    EXPECT_NE(e.find(p), std::string::npos) << "the message names the file: " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << "one line: " << e;
  }
}

TEST_F(SafetensorsTest, RejectsAbsurdHeaderLength) {
  const std::string p = path("huge.safetensors");
  std::ofstream f(p, std::ios::binary);
  const uint64_t n = uint64_t(1) << 40;
  f.write(reinterpret_cast<const char*>(&n), 8);
  f << "{}";
  f.close();
  EXPECT_NE(error_of(p).find("exceeds"), std::string::npos);
}

TEST_F(SafetensorsTest, MutatedFilesNeverCrash) {
  std::vector<SafetensorsEntry> t;
  for (int i = 0; i < 6; ++i)
    t.push_back({fmt::format("layers.{}.w", i), i % 2 ? DType::kBF16 : DType::kF8E4M3, {4, 8},
                 std::vector<uint8_t>(size_t(32 * (i % 2 ? 2 : 1)), uint8_t(i))});
  const std::string p = path("ok.safetensors");
  ASSERT_TRUE(write_safetensors(p, t).is_ok());
  std::ifstream in(p, std::ios::binary);
  const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  uint64_t header_len;
  std::memcpy(&header_len, good.data(), 8);
  std::mt19937 rng(42);
  int accepted = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string m = good;
    const int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits && !m.empty(); ++e) {
      const size_t pos = rng() % std::min<size_t>(m.size(), 8 + header_len);
      switch (rng() % 4) {
        case 0: m[pos] = char(rng()); break;                               // random byte
        case 1: m[pos] = "0123456789[]{},:\"-"[rng() % 18]; break;         // JSON-ish byte
        case 2: m.resize(rng() % m.size()); break;                         // truncation
        case 3: m.insert(pos, std::string(1 + rng() % 3, char(rng()))); break;  // insertion
      }
    }
    auto parsed = parse_safetensors(reinterpret_cast<const uint8_t*>(m.data()), m.size(), "fuzz");
    if (parsed) {
      ++accepted;
      for (const TensorView& v : parsed->tensors) {  // accepted views must lie inside the buffer
        ASSERT_GE(v.data, reinterpret_cast<const uint8_t*>(m.data()));
        ASSERT_LE(v.data + v.nbytes, reinterpret_cast<const uint8_t*>(m.data()) + m.size());
      }
    } else {
      ASSERT_FALSE(parsed.status().message().empty());
    }
  }
  EXPECT_LT(accepted, 3000);  // the mutations do reach the error paths
}

TEST_F(SafetensorsTest, ShardedCheckpointFollowsTheIndex) {
  ASSERT_TRUE(write_safetensors(path("model-1.safetensors"), {{"a", DType::kF32, {1}, std::vector<uint8_t>(4)}}).is_ok());
  ASSERT_TRUE(write_safetensors(path("model-2.safetensors"), {{"b", DType::kF32, {1}, std::vector<uint8_t>(4)}}).is_ok());
  const auto write_index = [&](const std::string& text) {
    std::ofstream(path("model.safetensors.index.json")) << text;
  };
  write_index(R"({"metadata":{},"weight_map":{"a":"model-1.safetensors","b":"model-2.safetensors"}})");
  auto c = Checkpoint::open(dir_.string());
  ASSERT_TRUE(c) << c.status().message();
  EXPECT_NE(c->find("b"), nullptr);
  EXPECT_EQ(c->file_of("b"), path("model-2.safetensors"));

  write_index(R"({"weight_map":{"a":"model-1.safetensors","b":"model-1.safetensors"}})");
  auto wrong = Checkpoint::open(dir_.string());
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.status().message().find("'b'"), std::string::npos) << wrong.status().message();

  write_index(R"({"weight_map":{"a":"model-1.safetensors","b":"model-2.safetensors","c":"model-2.safetensors"}})");
  auto missing = Checkpoint::open(dir_.string());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.status().message().find("'c' is missing"), std::string::npos) << missing.status().message();

  write_index(R"({"weight_map":{"a":"../model-1.safetensors"}})");
  EXPECT_FALSE(Checkpoint::open(dir_.string()));
  write_index("{");
  EXPECT_FALSE(Checkpoint::open(dir_.string()));
}

}  // namespace
}  // namespace dsv4
