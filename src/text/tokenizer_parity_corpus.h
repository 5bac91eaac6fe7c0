// The corpus of the tokenizer parity test: Shakespeare in chunks, handwritten source code, CJK prose, emoji
// sequences, whitespace and digit runs, many scripts and combining marks, text holding special-token
// strings, and seeded random mixtures of all of these. Generated in code, identically on every run, so only
// this file is committed.
//
// It avoids two kinds of text on which the JavaScript reference is known to differ from HF tokenizers (which
// dsv4 follows): U+0085 and U+FEFF, which JavaScript's `\s` classes differently (tokenizer_regex.h), and
// characters assigned after Unicode 14, which PCRE2 10.42 does not know yet.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dsv4 {

std::vector<std::string> tokenizer_parity_corpus(std::string_view shakespeare);

}  // namespace dsv4
