#include "app/token_shards.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "app/model_bundle.h"
#include "io/files.h"

namespace dsv4 {
namespace {

namespace fs = std::filesystem;

class TokenShardsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tok = load_tokenizer(std::string(DSV4_SOURCE_DIR) + "/tests/data/tiny-tokenizer");
    ASSERT_TRUE(tok) << tok.status().message();
    tok_ = std::make_unique<Tokenizer>(std::move(tok).value());
    dir_ = fs::temp_directory_path() / fmt::format("dsv4_shards_{}", ::testing::UnitTest::GetInstance()->random_seed());
    fs::remove_all(dir_);
    for (int i = 0; i < 40; ++i) text_ += fmt::format("Line {} of the play, spoken by the king.\n", i);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string error_after(const std::function<void()>& damage) {
    damage();
    auto loaded = load_token_shards(dir_.string());
    EXPECT_FALSE(loaded);
    return loaded ? "" : loaded.status().message();
  }

  std::unique_ptr<Tokenizer> tok_;
  fs::path dir_;
  std::string text_;
};

TEST_F(TokenShardsTest, WritesAndReadsBackTheSplits) {
  PrepareOptions o;
  o.val_fraction = 0.25;
  o.shard_tokens = 100;  // several shards per split
  auto made = prepare_token_shards(text_, *tok_, dir_.string(), o);
  ASSERT_TRUE(made) << made.status().message();
  EXPECT_TRUE(fs::exists(dir_ / "train-00002.bin"));

  // The validation part starts at a line start near 75 % of the text; each part is one document.
  EXPECT_EQ(made->train.text_bytes + made->val.text_bytes, int64_t(text_.size()));
  EXPECT_EQ(text_[size_t(made->train.text_bytes) - 1], '\n');
  EXPECT_NEAR(double(made->val.text_bytes) / double(text_.size()), 0.25, 0.03);
  EXPECT_EQ(made->train.tokens, tok_->encode_with_bos(text_.substr(0, size_t(made->train.text_bytes))).value());
  EXPECT_EQ(made->val.tokens, tok_->encode_with_bos(text_.substr(size_t(made->train.text_bytes))).value());

  auto loaded = load_token_shards(dir_.string());
  ASSERT_TRUE(loaded) << loaded.status().message();
  EXPECT_EQ(loaded->vocab_size, tok_->vocab_size());
  EXPECT_EQ(loaded->train.tokens, made->train.tokens);
  EXPECT_EQ(loaded->val.tokens, made->val.tokens);
  EXPECT_EQ(loaded->val.text_bytes, made->val.text_bytes);
}

TEST_F(TokenShardsTest, DamagedDatasetsFailWithOneLine) {
  ASSERT_TRUE(prepare_token_shards(text_, *tok_, dir_.string(), PrepareOptions{}));
  const std::string meta = read_file((dir_ / "meta.json").string()).value();
  const auto put = [&](const fs::path& p, const std::string& bytes) { ASSERT_TRUE(write_file_atomically(p.string(), bytes)); };
  const auto restore = [&] { ASSERT_TRUE(prepare_token_shards(text_, *tok_, dir_.string(), PrepareOptions{})); };

  EXPECT_NE(error_after([&] { put(dir_ / "val-00000.bin", "abc"); }).find("not a whole number"), std::string::npos);
  restore();
  EXPECT_NE(error_after([&] { put(dir_ / "val-00000.bin", std::string("\xff\xff", 2)); }).find("outside the vocabulary"),
            std::string::npos);
  restore();
  EXPECT_NE(error_after([&] { fs::remove(dir_ / "train-00000.bin"); }).find("cannot open"), std::string::npos);
  restore();
  EXPECT_NE(error_after([&] { put(dir_ / "meta.json", meta.substr(0, meta.size() / 2)); }).find("meta.json"),
            std::string::npos);
  restore();
  std::string lying = meta;
  lying.insert(lying.find("\"tokens\": ") + 10, "1");  // a different count
  EXPECT_NE(error_after([&] { put(dir_ / "meta.json", lying); }).find("meta.json says"), std::string::npos);
  restore();
  std::string escaping = meta;
  escaping.replace(escaping.find("val-00000.bin"), 13, "../x.bin");
  EXPECT_NE(error_after([&] { put(dir_ / "meta.json", escaping); }).find("plain file name"), std::string::npos);
}

TEST_F(TokenShardsTest, RejectsTextsAndOptionsThatCannotBeSplit) {
  EXPECT_FALSE(prepare_token_shards("one line without a break", *tok_, dir_.string(), PrepareOptions{}));
  PrepareOptions bad;
  bad.val_fraction = 1.0;
  EXPECT_FALSE(prepare_token_shards(text_, *tok_, dir_.string(), bad));
}

}  // namespace
}  // namespace dsv4
