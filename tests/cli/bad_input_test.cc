// The dsv4 binary on broken checkpoints and configs: one clear line on stderr naming the file (and the
// tensor), exit status 1, never a crash. CI runs this against the sanitizer build too.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "test_util.h"

namespace dsv4 {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dsv4_bad_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    const std::string src = testing::golden_case("tiny-bf16");
    fs::create_directories(dir_);
    for (const char* f : {"config.json", "model.safetensors", "inputs.json", "reference.safetensors"})
      fs::copy_file(src + "/" + f, dir_ / f);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string model_file() const { return (dir_ / "model.safetensors").string(); }

  // Rewrites the checkpoint's header with `edit` applied, keeping the data bytes as they are.
  void edit_header(const std::function<void(json&)>& edit) {
    std::ifstream in(model_file(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    uint64_t n;
    std::memcpy(&n, bytes.data(), 8);
    json h = json::parse(bytes.substr(8, n));
    edit(h);
    const std::string text = h.dump();
    const uint64_t len = text.size();
    std::ofstream out(model_file(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(&len), 8);
    out << text << bytes.substr(8 + n);
  }

  // Rewrites the checkpoint through the writer with `edit` applied to its tensor list.
  void edit_tensors(const std::function<void(std::vector<SafetensorsEntry>&)>& edit) {
    std::vector<SafetensorsEntry> entries;
    {
      auto f = SafetensorsFile::open(model_file());
      ASSERT_TRUE(f) << f.status().message();
      for (const TensorView& t : f->tensors())
        entries.push_back({t.name, t.dtype, t.shape, std::vector<uint8_t>(t.data, t.data + t.nbytes)});
    }
    edit(entries);
    ASSERT_TRUE(write_safetensors(model_file(), entries).is_ok());
  }

  // Runs a dsv4 command on the directory; expects exit 1 and one stderr line holding every `needle`.
  void expect_clean_failure(const std::string& command, const std::vector<std::string>& needles) {
    const testing::CommandResult r = testing::run_command(std::string(DSV4_BINARY) + " " + command + " " + dir_.string());
    EXPECT_EQ(r.exit_code, 1) << "stderr: " << r.err;
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
    for (const std::string& n : needles) EXPECT_NE(r.err.find(n), std::string::npos) << n << " in: " << r.err;
  }

  fs::path dir_;
};

TEST_F(BadInput, IntactCopyLoads) {
  const auto r = testing::run_command(std::string(DSV4_BINARY) + " inspect " + dir_.string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("checkpoint   validated"), std::string::npos) << r.out;
}

TEST_F(BadInput, TruncatedSafetensors) {
  fs::resize_file(model_file(), fs::file_size(model_file()) - 1000);
  expect_clean_failure("inspect", {model_file(), "tensor '", "past the end"});
  fs::resize_file(model_file(), 100);
  expect_clean_failure("golden-check", {model_file(), "header length"});
}

TEST_F(BadInput, HeaderOffsetsPastTheEnd) {
  edit_header([](json& h) {
    auto& t = h["layers.0.attn.attn_sink"]["data_offsets"];
    t[1] = t[1].get<uint64_t>() + (uint64_t(1) << 40);
  });
  expect_clean_failure("inspect", {model_file(), "layers.0.attn.attn_sink", "past the end"});
}

TEST_F(BadInput, OverlappingTensors) {
  edit_header([](json& h) { h["layers.0.ffn_norm.weight"]["data_offsets"] = h["layers.0.attn_norm.weight"]["data_offsets"]; });
  expect_clean_failure("inspect", {model_file(), "overlaps", "norm.weight"});
}

TEST_F(BadInput, MissingTensor) {
  edit_tensors([](std::vector<SafetensorsEntry>& t) {
    std::erase_if(t, [](const SafetensorsEntry& e) { return e.name == "layers.2.attn.compressor.ape"; });
  });
  expect_clean_failure("inspect", {"missing tensor 'layers.2.attn.compressor.ape'"});
}

TEST_F(BadInput, MisshapedTensor) {
  edit_tensors([](std::vector<SafetensorsEntry>& t) {
    for (auto& e : t)
      if (e.name == "layers.1.attn.attn_sink") {
        e.shape = {int64_t(e.bytes.size() / 4) + 1};
        e.bytes.resize(e.bytes.size() + 4);
      }
  });
  expect_clean_failure("inspect", {model_file(), "tensor 'layers.1.attn.attn_sink'", "expected F32"});
  expect_clean_failure("golden-check", {"layers.1.attn.attn_sink"});
}

TEST_F(BadInput, WrongDtypeAndUnexpectedTensor) {
  edit_tensors([](std::vector<SafetensorsEntry>& t) {
    for (auto& e : t)
      if (e.name == "embed.weight") e.dtype = DType::kF16;
    t.push_back({"layers.9.extra", DType::kF32, {1}, std::vector<uint8_t>(4)});
  });
  expect_clean_failure("inspect", {"'embed.weight' is F16"});
  edit_tensors([](std::vector<SafetensorsEntry>& t) {
    for (auto& e : t)
      if (e.name == "embed.weight") e.dtype = DType::kBF16;
  });
  expect_clean_failure("inspect", {"unexpected tensor 'layers.9.extra'"});
}

TEST_F(BadInput, HashTableOutOfRange) {
  edit_tensors([](std::vector<SafetensorsEntry>& t) {
    for (auto& e : t)
      if (e.name == "layers.0.ffn.gate.tid2eid") e.bytes[8] = 99;  // token 0, second expert
  });
  expect_clean_failure("golden-check", {"layers.0.ffn.gate.tid2eid", "expert 99"});
}

TEST_F(BadInput, InvalidConfig) {
  json c = testing::read_json((dir_ / "config.json").string());
  c["compress_ratios"][1] = 5;
  std::ofstream((dir_ / "config.json").string()) << c.dump();
  expect_clean_failure("inspect", {"config.json", "compress_ratios[1] = 5"});
  std::ofstream((dir_ / "config.json").string()) << "{\"model_type\": ";
  expect_clean_failure("golden-check", {"config.json", "not well-formed JSON"});
}

TEST_F(BadInput, GoldenCaseWithoutReference) {
  fs::remove(dir_ / "reference.safetensors");
  expect_clean_failure("golden-check", {"reference.safetensors", "cannot open"});
}

TEST_F(BadInput, GoldenInputsOutOfVocabulary) {
  std::ofstream((dir_ / "inputs.json").string()) << R"({"prompt_ids":[0, 99999],"decode_ids":[1]})";
  expect_clean_failure("golden-check", {"inputs.json", "99999"});
}

TEST_F(BadInput, MissingDirectory) {
  fs::remove_all(dir_);
  expect_clean_failure("inspect", {"cannot open"});
}

}  // namespace
}  // namespace dsv4
