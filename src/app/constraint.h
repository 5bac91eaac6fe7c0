// Constrained decoding: the sampler may only pick tokens that keep the output inside a small grammar —
// a JSON value shaped by a JSON-schema subset (response_format), or one DSML tool call whose parameters
// follow the tool's schema (tool_choice required / named). The grammar is matched byte by byte by a
// pushdown matcher; a trie of the vocabulary's token pieces (built once per tokenizer) lifts it to
// tokens: one walk of the trie, pruned where the matcher rejects, gives the allowed set for a step.
//
// The generated text is always well-formed and terminates: strings hold printable ASCII without escapes
// (no '<' in raw DSML values) and, like numbers, arrays and objects of unknown shape, are capped in
// length (GrammarLimits). JSON is written compactly; object members come in schema order, the required
// ones (all of them when the schema lists none). Schema keywords outside the subset are rejected.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "text/chat_profile.h"
#include "text/json_text.h"
#include "text/tokenizer.h"

namespace dsv4 {

struct GrammarLimits {
  int max_string = 24;     // bytes of a string value without maxLength
  int max_digits = 6;      // integer and fraction digits of a number
  int max_items = 4;       // array items without maxItems
  int max_members = 4;     // members of an object of unknown shape
  int max_depth = 3;       // nesting of values of unknown shape
  // Bytes of free reasoning before "</think>" must follow (thinking mode). A real model closes its
  // reasoning itself; the cap only bounds a model that never would.
  int max_reasoning = 1024;
};

class Grammar;  // compiled and immutable; shared by the requests that use it

// JSON matching `schema` (a JSON-schema object: type, properties, required, items, enum, const,
// minLength/maxLength, minItems/maxItems; anything else is an error naming the keyword).
Result<std::shared_ptr<const Grammar>> json_schema_grammar(const JsonValue& schema, bool thinking,
                                                          const GrammarLimits& limits = {});
// Any JSON object.
std::shared_ptr<const Grammar> json_object_grammar(bool thinking, const GrammarLimits& limits = {});
// One DSML tool-call block calling one of `functions` (OpenAI function objects: name, parameters), or
// only the one named `only` when it is not empty.
Result<std::shared_ptr<const Grammar>> tool_call_grammar(std::span<const JsonValue> functions, std::string_view only,
                                                        bool thinking, const DsmlTags& tags,
                                                        const GrammarLimits& limits = {});

// The tokenizer's pieces in a byte trie.
class VocabTrie {
 public:
  VocabTrie(const Tokenizer& tokenizer, int64_t vocab_size);
  struct Node {
    uint32_t first_edge = 0, n_edges = 0;    // into edges_
    uint32_t first_token = 0, n_tokens = 0;  // into tokens_: ids whose piece ends here
  };
  struct Edge {
    uint8_t byte;
    uint32_t node;
  };
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<Edge>& edges() const { return edges_; }
  const std::vector<int32_t>& tokens() const { return tokens_; }
  // How many leading bytes of a token's piece are plain text for a state that only counts them: inside a
  // JSON string (printable ASCII but '"' and '\\'), a raw DSML value (printable ASCII but '<') and free
  // reasoning (any byte but '<'). The mask takes such tokens without walking the matcher over them.
  enum PlainClass { kJsonString, kRawValue, kFreeText, kPlainClasses };
  uint32_t plain_prefix(PlainClass c, int32_t id) const { return plain_[size_t(c)][size_t(id)]; }
  // A token's bytes (empty for ids without a piece).
  std::string_view piece(int32_t id) const {
    return id >= 0 && size_t(id) < pieces_.size() ? std::string_view(pieces_[size_t(id)]) : std::string_view();
  }

 private:
  std::vector<std::string> pieces_;
  std::vector<uint32_t> plain_[kPlainClasses];
  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
  std::vector<int32_t> tokens_;
};

// One generation's position in a grammar.
class TokenConstraint {
 public:
  TokenConstraint(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const VocabTrie> trie, int32_t eos_id);
  ~TokenConstraint();

  // Sets the logits of tokens that cannot continue the output to -infinity. EOS stays only where the
  // output is complete (and is then the only choice once nothing else can follow).
  void mask(std::span<float> logits) const;
  // Whether the grammar accepts the token's bytes from here (EOS: whether the output is complete). The
  // definition mask() implements faster.
  bool allows(int32_t token) const;
  // Advances over a chosen token; false (and no change) when it was not allowed.
  bool accept(int32_t token);
  bool complete() const;
  // The bytes the grammar fixes from the current position (the rest of a literal and any literals right
  // after it), up to the next choice; empty when the next byte is free.
  std::string forced_text() const;
  // Whether `text` is a complete sentence of the grammar (for tests).
  static bool matches(const Grammar& grammar, std::string_view text);

 private:
  struct State;
  std::shared_ptr<const Grammar> grammar_;
  std::shared_ptr<const VocabTrie> trie_;
  int32_t eos_;
  std::unique_ptr<State> state_;
};

}  // namespace dsv4
