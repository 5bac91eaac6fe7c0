#include "text/tokenizer_parity_corpus.h"

#include <algorithm>
#include <cstdint>

#include "text/utf8.h"

namespace dsv4 {

namespace {

// splitmix64: the same sequence on every platform, which the standard distributions do not promise.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return size_t(next() % n); }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

 private:
  uint64_t state_;
};

struct Range {
  char32_t first;
  char32_t last;
};

// Letters (and marks) of many scripts, all assigned by Unicode 14.
const std::vector<std::vector<Range>> kScripts = {
    {{'a', 'z'}, {'A', 'Z'}},
    {{0xE0, 0xFF}, {0x100, 0x17F}},                     // Latin-1 and Latin Extended-A letters
    {{0x3B1, 0x3C9}, {0x391, 0x3A1}},                   // Greek
    {{0x410, 0x44F}},                                   // Cyrillic
    {{0x5D0, 0x5EA}},                                   // Hebrew
    {{0x621, 0x63A}, {0x641, 0x64A}, {0x64B, 0x652}},   // Arabic letters and harakat
    {{0x905, 0x939}, {0x93E, 0x94C}},                   // Devanagari letters and vowel signs
    {{0xE01, 0xE2E}, {0xE31, 0xE3A}},                   // Thai
    {{0x10D0, 0x10FA}},                                 // Georgian
    {{0x4E00, 0x9FA5}},                                 // CJK inside DeepSeek's CJK split
    {{0x9FA6, 0x9FFC}, {0x3400, 0x4DB5}, {0x20000, 0x2A6D6}},  // CJK outside it
    {{0x3041, 0x3096}, {0x30A1, 0x30FA}, {0xFF66, 0xFF9D}},    // kana, half-width kana
    {{0xAC00, 0xD7A3}},                                 // Hangul syllables
    {{0x1100, 0x1112}, {0x1161, 0x1175}},               // Hangul jamo
    {{0x1D400, 0x1D454}},                               // mathematical letters (astral)
};

// Symbols, punctuation, marks and other characters the main regex treats differently from letters.
const std::vector<Range> kOthers = {
    {'!', '/'}, {':', '@'}, {'[', '`'}, {'{', '~'}, {0xA1, 0xBF}, {0x300, 0x36F}, {0x2010, 0x2027},
    {0x2030, 0x205E}, {0x20A0, 0x20BF}, {0x2190, 0x21FF}, {0x2200, 0x22FF}, {0x2500, 0x257F}, {0x3001, 0x3003},
    {0xFF01, 0xFF5E}, {0x1F300, 0x1F5FF}, {0x1F600, 0x1F64F}, {0x1F680, 0x1F6C5}, {0xFE00, 0xFE0F},
    {0x200B, 0x200F}, {0xE000, 0xE0FF}, {0x1D100, 0x1D126}, {0xE0020, 0xE007F}, {0x01, 0x08}, {0x0E, 0x1F},
    {0x7F, 0x7F}, {0x00, 0x00},
};

const std::vector<std::string> kSpaces = {
    " ", " ", " ", "  ", "\t", "\n", "\r\n", "\n\n", "   ", "\v", "\f", "\xC2\xA0", "\xE1\x9A\x80", "\xE2\x80\x83",
    "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80", "\xE1\xA0\x8E", " \n ", "\t\t",
};

const std::vector<std::string> kDigitChars = {
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "\xD9\xA3", "\xEF\xBC\x95", "\xC2\xB2", "\xC2\xBD",
    "\xE2\x85\xAB", "\xE2\x91\xA0", "\xE0\xA5\xAC",  // ٣ ５ ² ½ Ⅻ ① ६
};

const std::vector<std::string> kSpecialTexts = {
    "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>", "<|EOT|>",
    "<｜tool▁calls▁begin｜>", "<｜tool▁call▁end｜>", "<｜tool▁sep｜>", "<｜fim▁hole｜>", "<｜place▁holder▁no▁42｜>",
    "<｜▁pad▁｜>", "<｜User|>", "<｜User", "<|User|>", "<<｜User｜>>", "｜>", "<think>", "</think>", "｜DSML｜",
};

const char* const kCode[] = {
    R"src(#include <cstdio>
#include <vector>

// Sums the squares of the first n integers.
template <typename T>
T sum_of_squares(int n) {
    T total{};
    for (int i = 1; i <= n; ++i) {
        total += static_cast<T>(i) * i;   // i*i may overflow int
    }
    return total;
}

int main(int argc, char** argv) {
	std::vector<double> xs = {1.5, -2.25, 3e-7, 0x1p10};
	if (argc > 1 && argv[1][0] == '-') { std::printf("usage: %s [n]\n", argv[0]); return 1; }
	std::printf("%lld\n", sum_of_squares<long long>(1000000));
	return xs.empty() ? 0 : 42;
}
)src",
    R"src(def fibonacci(n: int) -> list[int]:
    """Return the first n Fibonacci numbers."""
    seq = [0, 1]
    while len(seq) < n:
        seq.append(seq[-1] + seq[-2])
    return seq[:n]


class Config(dict):
    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(name) from e

if __name__ == "__main__":
    print(f"{fibonacci(20)=}")
    cfg = Config(lr=3e-4, betas=(0.9, 0.95), eps=1e-8, name='adamw')
    print(cfg.lr, cfg.name)
)src",
    R"src(export async function fetchJson(url, { retries = 3, timeoutMs = 5_000 } = {}) {
  for (let attempt = 0; attempt <= retries; attempt++) {
    const ctrl = new AbortController();
    const t = setTimeout(() => ctrl.abort(), timeoutMs);
    try {
      const res = await fetch(url, { signal: ctrl.signal });
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${res.statusText}`);
      return await res.json();
    } catch (err) {
      if (attempt === retries) throw err;
      await new Promise((r) => setTimeout(r, 2 ** attempt * 100));
    } finally {
      clearTimeout(t);
    }
  }
}
const re = /^(?:\d{3}-){2}\d{4}$/u, arrow = (a, b) => a?.b ?? b;
)src",
    R"src({
  "model": "deepseek-v4",
  "messages": [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What's 2+2?\nAnswer briefly."}
  ],
  "temperature": 0.7,
  "top_p": 0.95,
  "max_tokens": 4096,
  "stop": ["<｜end▁of▁sentence｜>", "\n\n\n"],
  "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
    "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
}
)src",
    R"src(<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Tokenizer &amp; friends</title>
  <style>body { font: 14px/1.4 sans-serif; margin: 0 auto; max-width: 72ch; }</style>
</head>
<body>
  <h1 id="top">Hello&nbsp;world</h1>
  <p class="lead">Prices: &euro;12.50, &#x00A3;9.99 &mdash; <a href="https://example.com/a?b=1&c=2#frag">link</a></p>
  <!-- a comment with <tags> inside -->
  <script>document.querySelectorAll("p").forEach(p => p.dataset.seen = "1");</script>
</body>
</html>
)src",
    R"src(#!/usr/bin/env bash
set -euo pipefail
for f in "$@"; do
  if [[ -f "$f" ]]; then
    lines=$(wc -l < "$f")
    printf '%-40s %8d\n' "$f" "$lines"
  fi
done | sort -k2 -n -r | head -n 20
grep -rnE 'TODO|FIXME' src/ 2>/dev/null || echo "clean"
awk -F'\t' '{ s += $3 } END { print s / NR }' data.tsv
)src",
    R"src(SELECT u.id, u.email, COUNT(o.id) AS orders, SUM(o.total_cents) / 100.0 AS revenue
FROM users AS u
LEFT JOIN orders AS o ON o.user_id = u.id AND o.created_at >= DATE '2024-01-01'
WHERE u.email LIKE '%@example.org' AND u.deleted_at IS NULL
GROUP BY u.id, u.email
HAVING COUNT(o.id) > 3
ORDER BY revenue DESC NULLS LAST
LIMIT 100 OFFSET 200;
)src",
    R"src(use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub enum Token<'a> { Word(&'a str), Number(f64), Punct(char) }

pub fn count<'a>(tokens: &[Token<'a>]) -> HashMap<&'a str, usize> {
    let mut m = HashMap::new();
    for t in tokens {
        if let Token::Word(w) = t { *m.entry(*w).or_insert(0usize) += 1; }
    }
    m
}
// 日本語のコメント: トークナイザーのテスト
)src",
    R"src(CC      ?= g++
CXXFLAGS += -O2 -Wall -Wextra -std=c++20
OBJS    := $(patsubst %.cc,build/%.o,$(wildcard src/*.cc))

build/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CC) $(CXXFLAGS) -c $< -o $@

all: $(OBJS)
	$(CC) $^ -o app -lpcre2-8

.PHONY: clean
clean:
	rm -rf build app
)src",
    R"src(server:
  host: 0.0.0.0
  port: 8080
  tls: { enabled: false }
models:
  - name: deepseek-v4-flash
    path: /models/dsv4/
    max_batch: 16
    kv_cache_gb: 48.5
  - name: "tiny test"
    path: './tests/tiny model'
logging:
    level: debug   # one of: trace, debug, info
    format: "%Y-%m-%dT%H:%M:%S.%fZ"
)src",
    R"src(\documentclass{article}
\usepackage{amsmath}
\begin{document}
The softmax is $\sigma(z)_i = \frac{e^{z_i}}{\sum_{j=1}^{K} e^{z_j}}$ for $i = 1,\dots,K$.
\begin{align}
  \mathcal{L} &= -\sum_{t} \log p_\theta(x_t \mid x_{<t}) \\
  \nabla_\theta \mathcal{L} &\approx 0
\end{align}
\end{document}
)src",
};

const char* const kProse[] = {
    "人工智能是计算机科学的一个分支，它企图了解智能的实质，并生产出一种新的能以人类智能相似的方式做出反应的智能机器。"
    "该领域的研究包括机器人、语言识别、图像识别、自然语言处理和专家系统等。\n\n深度学习（Deep Learning）是机器学习的分支，"
    "是一种以人工神经网络为架构，对资料进行表征学习的算法。2024年，模型参数已超过6710亿。",
    "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは"
    "記憶している。カタカナ、ひらがな、漢字を混ぜた文章：「東京スカイツリー」は高さ６３４メートルです。ｶﾀｶﾅも。",
    "대한민국의 수도는 서울특별시이다. 한국어는 한글로 표기하며, 세종대왕이 1443년에 훈민정음을 창제하였다. "
    "ㄱㄴㄷ 자모와 조합형 가 도 있다.",
    "Москва — столица России. Ёлка, щука, объём! Греческий: Η γρήγορη καφέ αλεπού πηδάει. Ελληνικά ΑΒΓΔ.",
    "العربية لغة سامية، يتحدث بها أكثر من ٤٠٠ مليون شخص. مَرْحَبًا بِكُمْ! עברית: שָׁלוֹם עוֹלָם, 2025.",
    "हिन्दी भारत की राजभाषा है। संख्या १२३४५६ और ९. ภาษาไทยเป็นภาษาราชการของประเทศไทย ๑๒๓ ქართული ენა",
    "Emoji: 👨‍👩‍👧‍👦 family, 👩🏽‍💻 coder, 🏳️‍🌈 flag, 🏴‍☠️ pirate, 🇯🇵🇺🇸🇫🇷 flags, 1️⃣2️⃣#️⃣ keycaps, "
    "❤️‍🔥 heart on fire, 🧑🏿‍🤝‍🧑🏻 people holding hands, 👍🏻👍🏼👍🏽👍🏾👍🏿, 🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotland, ☃️ ✈︎ ™️ ©️",
    "Combining marks: e\xCC\x81 a\xCC\x8A o\xCC\x88\xCC\x81 n\xCC\x83; Vietnamese: Tiếng Việt có nhiều dấu: "
    "ắ ằ ẳ ẵ ặ ệ ộ ự. Zalgo: Z\xCC\xB5\xCC\xA1\xCD\x8E" "a\xCC\xB7\xCC\x9El\xCC\xB8g\xCC\xB4\xCD\x9Do\xCC\xB6 text.",
    "Mixed: The 東京 office (東京オフィス) opened in 2019; München's café served 3½ crêpes; naïve coöperation; "
    "ﬁne ligatures; ＡＢＣ fullwidth; 𝐁𝐨𝐥𝐝 math letters; ℌ𝔢𝔩𝔩𝔬; x² + y³ = z⁴; ①②③ Ⅻ Ⅳ.",
    "Typography: “curly quotes”, ‘single’, «guillemets», „German“, — em dash – en dash … ellipsis; † ‡ § ¶ • · "
    "‰ ′ ″ ‹ › ⁂ ※ ¡¿ ¦ ¬ ¯ ° ± µ ¸ ¼ ¾ × ÷ → ⇒ ∀ ∃ ∈ ∑ √ ∞ ≈ ≠ ≤ ≥ ⊂ ⊕ ╔═╗ ║ ╚═╝ €£¥₹₿",
    "Control and format characters: a\x01" "b\x1F" "c\x7F" "d\xE2\x80\x8B" "e\xE2\x80\x8C" "f\xE2\x80\x8D"
    "g\xE2\x80\x8E" "h\xE2\x80\x8F" "i\xEE\x80\x80" "j\xEF\xB8\x8F" "k\xE1\xA0\x8E" "l",
};

void add_shakespeare(std::string_view text, std::vector<std::string>& docs) {
  constexpr size_t kTarget = 4096;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = pos + kTarget;
    if (end >= text.size()) {
      end = text.size();
    } else {
      const size_t blank = text.find("\n\n", end);
      end = blank == std::string_view::npos ? text.size() : blank + 2;
    }
    docs.emplace_back(text.substr(pos, end - pos));
    pos = end;
  }
}

void add_code(std::vector<std::string>& docs) {
  for (const char* code : kCode) {
    const std::string s = code;
    docs.push_back(s);
    // The same code with tabs for indentation and Windows line ends.
    std::string tabs, crlf;
    for (const char c : s) {
      if (c == '\n') crlf += '\r';
      crlf += c;
    }
    size_t i = 0;
    while (i < s.size()) {
      const size_t line_end = std::min(s.find('\n', i), s.size());
      size_t j = i;
      while (j < line_end && s[j] == ' ') ++j;
      tabs += std::string((j - i) / 2, '\t') + s.substr(j, line_end - j) + "\n";
      i = line_end + 1;
    }
    docs.push_back(tabs);
    docs.push_back(crlf);
  }
}

void add_whitespace(std::vector<std::string>& docs) {
  std::string doc;
  for (int n = 1; n <= 80; ++n) {
    doc += "w" + std::to_string(n) + std::string(size_t(n), ' ') + "x" + std::string(size_t(n % 7), '\t') + "y" +
           std::string(size_t(n % 5), '\n') + std::string(size_t(n % 3), ' ') + "\n";
  }
  docs.push_back(doc);
  docs.push_back(std::string(3000, ' '));
  docs.push_back(std::string(1000, '\n') + "end");
  docs.push_back("  \n  \n\t\n \r\n\r\r\n  trailing   \n   leading\n\n\n\n    indented\n\t\tmixed \t \t\n");
  docs.push_back(" ");
  docs.push_back("\n");
  docs.push_back("a\xE3\x80\x80" "b\xC2\xA0\xC2\xA0" "c\xE2\x80\xA8" "d\xE2\x80\xA9" "e\xE1\xA0\x8E"
                 "f\xE2\x80\x83\xE2\x80\x83");
  doc.clear();
  for (const std::string& a : kSpaces) {
    for (const std::string& b : kSpaces) doc += "x" + a + b + "y" + a + "," + b;
  }
  docs.push_back(doc);
}

void add_digits(std::vector<std::string>& docs) {
  std::string doc;
  std::string digits;
  for (int n = 1; n <= 40; ++n) {
    digits += char('0' + (n * 7) % 10);
    doc += digits + " " + std::to_string(n) + "." + digits + ", -" + digits + "e" + std::to_string(n) + "; x" +
           digits + "y\n";
  }
  doc += "Phone +1 (555) 010-9999, date 2025-01-31T23:59:59Z, IPv4 192.168.0.1, version v1.2.3-rc4, 1,234,567.89, "
         "0xDEADBEEF, 1_000_000, ٠١٢٣٤٥٦٧٨٩, ０１２３４５６７８９, ¹²³⁴, ½¾, ⅠⅡⅢⅣⅫ, ①②③, ६७८, 3.14159265358979323846";
  docs.push_back(doc);
}

void add_special_tokens(std::vector<std::string>& docs) {
  std::string doc = "<｜begin▁of▁sentence｜>You are helpful.<｜User｜>Hi there!<｜Assistant｜>Hello.<｜end▁of▁sentence｜>"
                    "<｜User｜>Call a tool<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function"
                    "<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜>"
                    "<｜tool▁calls▁end｜><｜end▁of▁sentence｜>";
  docs.push_back(doc);
  doc.clear();
  for (const std::string& a : kSpecialTexts) {
    for (const std::string& b : kSpecialTexts) doc += a + b + " " + a + "x" + b + "\n";
  }
  docs.push_back(doc);
}

void append_random_char(Rng& rng, const std::vector<Range>& ranges, std::string& out) {
  const Range& r = rng.pick(ranges);
  append_utf8(char32_t(r.first + rng.below(size_t(r.last - r.first) + 1)), out);
}

// Words of a few scripts separated by spaces and punctuation, with digit runs, emoji and special-token text.
std::string random_doc(Rng& rng) {
  std::string doc;
  const size_t target = 256 + rng.below(2048);
  const size_t n_scripts = 1 + rng.below(3);
  std::vector<size_t> scripts;
  for (size_t i = 0; i < n_scripts; ++i) scripts.push_back(rng.below(kScripts.size()));
  while (doc.size() < target) {
    const size_t kind = rng.below(20);
    if (kind < 10) {
      const auto& script = kScripts[scripts[rng.below(scripts.size())]];
      const size_t len = 1 + rng.below(10);
      for (size_t i = 0; i < len; ++i) append_random_char(rng, script, doc);
    } else if (kind < 14) {
      doc += rng.pick(kSpaces);
    } else if (kind < 17) {
      append_random_char(rng, kOthers, doc);
    } else if (kind < 19) {
      const size_t len = 1 + rng.below(rng.below(4) == 0 ? 25 : 6);
      for (size_t i = 0; i < len; ++i) {
        doc += rng.below(4) == 0 ? rng.pick(kDigitChars) : std::string(1, char('0' + rng.below(10)));
      }
    } else {
      doc += rng.pick(kSpecialTexts);
    }
  }
  return doc;
}

}  // namespace

std::vector<std::string> tokenizer_parity_corpus(std::string_view shakespeare) {
  std::vector<std::string> docs;
  add_shakespeare(shakespeare, docs);
  add_code(docs);
  for (const char* prose : kProse) docs.emplace_back(prose);
  add_whitespace(docs);
  add_digits(docs);
  add_special_tokens(docs);
  Rng rng(20250131);
  for (int i = 0; i < 400; ++i) docs.push_back(random_doc(rng));
  return docs;
}

}  // namespace dsv4
