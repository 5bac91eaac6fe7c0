#include "app/constraint.h"

#include <algorithm>
#include <array>
#include <bit>
#include <limits>
#include <map>

#include "base/check.h"
#include "text/chat_tokens.h"

namespace dsv4 {

// ---- The grammar: a table of nodes ----------------------------------------------------------------

enum class NodeKind : uint8_t {
  kLiteral,    // `text`
  kSeq,        // `items` in order
  kSwitch,     // one of `alts` (prefix-free literals), then the node items[i] of the alternative taken
  kEnum,       // one of `alts` (literals, possibly prefixes of each other)
  kString,     // JSON string "..." of printable ASCII without '"' and '\', length in [min, max]
  kRawString,  // raw DSML value: printable ASCII without '<', length in [min, max]
  kInteger,
  kNumber,
  kArray,      // '[' child (',' child)* ']' with min..max items
  kAnyValue,   // any JSON value, nested at most limits.max_depth
  kAnyObject,  // any JSON object
  kFreeText,   // any bytes until `text` (the end marker, consumed), at most max bytes before it
};

struct GrammarNode {
  NodeKind kind = NodeKind::kLiteral;
  std::string text;
  std::vector<int> items;
  std::vector<std::string> alts;
  int child = -1;
  int min = 0, max = 0;
};

class Grammar {
 public:
  std::vector<GrammarNode> nodes;
  int root = -1;
  int any_value = -1, any_key = -1, any_scalar_literal = -1, any_string = -1, any_number = -1;
  GrammarLimits limits;

  int add(GrammarNode n) {
    nodes.push_back(std::move(n));
    return int(nodes.size()) - 1;
  }
  int literal(std::string text) { return add({.kind = NodeKind::kLiteral, .text = std::move(text)}); }
  void init_any(const GrammarLimits& l) {
    limits = l;
    any_value = add({.kind = NodeKind::kAnyValue});
    any_key = add({.kind = NodeKind::kString, .min = 1, .max = 16});
    any_string = add({.kind = NodeKind::kString, .max = l.max_string});
    any_number = add({.kind = NodeKind::kNumber, .max = l.max_digits});
    any_scalar_literal = add({.kind = NodeKind::kEnum, .alts = {"true", "false", "null"}});
  }
};

namespace {

constexpr int kMaxFrames = 24;
constexpr int kMaxAlternatives = 32;

bool printable(uint8_t c) { return c >= 0x20 && c <= 0x7e; }
bool digit(uint8_t c) { return c >= '0' && c <= '9'; }

struct Frame {
  int32_t node;
  int32_t pos;     // literal / alternative position; array and object phase
  int32_t count;   // characters, digits, items or members so far
  uint32_t alive;  // kSwitch / kEnum: alternatives still possible
  int16_t depth;   // nesting of unknown-shape values
  uint8_t phase;
};

// The matcher: a stack of frames over a grammar. Plain data, copied at every trie node it visits.
struct Matcher {
  const Grammar* g = nullptr;
  std::array<Frame, kMaxFrames> stack;
  int size = 0;

  bool push(int node, int depth) {
    if (size == kMaxFrames) return false;
    const GrammarNode& n = g->nodes[size_t(node)];
    uint32_t alive = 0;
    if (n.kind == NodeKind::kSwitch || n.kind == NodeKind::kEnum)
      alive = n.alts.size() >= 32 ? ~0u : (1u << n.alts.size()) - 1;
    stack[size_t(size++)] = {node, 0, 0, alive, int16_t(depth), 0};
    return true;
  }
  void replace(int node, int depth) {
    --size;
    push(node, depth);
  }

  bool can_end() const {
    for (int i = size - 1; i >= 0; --i) {
      const Frame& f = stack[size_t(i)];
      const GrammarNode& n = g->nodes[size_t(f.node)];
      switch (n.kind) {
        case NodeKind::kSeq:
          if (f.pos != int(n.items.size())) return false;
          break;
        case NodeKind::kEnum: {
          bool done = false;
          for (size_t a = 0; a < n.alts.size(); ++a)
            if ((f.alive >> a & 1) && int(n.alts[a].size()) == f.pos) done = true;
          if (!done) return false;
          break;
        }
        case NodeKind::kRawString:
          if (f.count < n.min) return false;
          break;
        case NodeKind::kInteger:
        case NodeKind::kNumber:
          if (f.phase != 2 && f.phase != 3 && f.phase != 5) return false;
          break;
        default:
          return false;
      }
    }
    return true;
  }

  // Consumes one byte; false when the grammar does not allow it (the matcher is then unusable).
  bool feed(uint8_t c) {
    for (;;) {
      if (size == 0) return false;
      Frame& f = stack[size_t(size - 1)];
      const GrammarNode& n = g->nodes[size_t(f.node)];
      switch (n.kind) {
        case NodeKind::kLiteral:
          if (uint8_t(n.text[size_t(f.pos)]) != c) return false;
          if (++f.pos == int(n.text.size())) --size;
          return true;
        case NodeKind::kSeq:
          if (f.pos == int(n.items.size())) {
            --size;
            continue;
          }
          if (!push(n.items[size_t(f.pos++)], f.depth)) return false;
          continue;
        case NodeKind::kSwitch: {
          uint32_t alive = 0;
          int done = -1;
          for (size_t a = 0; a < n.alts.size(); ++a) {
            if (!(f.alive >> a & 1) || int(n.alts[a].size()) <= f.pos || uint8_t(n.alts[a][size_t(f.pos)]) != c) continue;
            alive |= 1u << a;
            if (int(n.alts[a].size()) == f.pos + 1) done = int(a);
          }
          if (alive == 0) return false;
          f.alive = alive;
          ++f.pos;
          if (done >= 0) replace(n.items[size_t(done)], f.depth);
          return true;
        }
        case NodeKind::kEnum: {
          uint32_t alive = 0;
          bool complete_before = false, all_done = true;
          for (size_t a = 0; a < n.alts.size(); ++a) {
            if (!(f.alive >> a & 1)) continue;
            if (int(n.alts[a].size()) == f.pos) complete_before = true;
            if (int(n.alts[a].size()) <= f.pos || uint8_t(n.alts[a][size_t(f.pos)]) != c) continue;
            alive |= 1u << a;
            if (int(n.alts[a].size()) > f.pos + 1) all_done = false;
          }
          if (alive == 0) {
            if (!complete_before) return false;
            --size;  // a complete alternative ends here; the byte belongs to what follows
            continue;
          }
          f.alive = alive;
          ++f.pos;
          if (all_done) --size;
          return true;
        }
        case NodeKind::kString:
          if (f.phase == 0) {
            if (c != '"') return false;
            f.phase = 1;
            return true;
          }
          if (c == '"') {
            if (f.count < n.min) return false;
            --size;
            return true;
          }
          if (!printable(c) || c == '\\' || f.count >= n.max) return false;
          ++f.count;
          return true;
        case NodeKind::kRawString:
          if (printable(c) && c != '<' && f.count < n.max) {
            ++f.count;
            return true;
          }
          if (f.count < n.min) return false;
          --size;
          continue;
        case NodeKind::kInteger:
        case NodeKind::kNumber: {
          const bool real = n.kind == NodeKind::kNumber;
          switch (f.phase) {
            case 0:
            case 1:
              if (c == '-' && f.phase == 0) {
                f.phase = 1;
                return true;
              }
              if (c == '0') {
                f.phase = 3;
                return true;
              }
              if (digit(c)) {
                f.phase = 2;
                f.count = 1;
                return true;
              }
              return false;
            case 2:
              if (digit(c) && f.count < n.max) {
                ++f.count;
                return true;
              }
              [[fallthrough]];
            case 3:
              if (c == '.' && real) {
                f.phase = 4;
                f.count = 0;
                return true;
              }
              --size;
              continue;
            case 4:
              if (!digit(c)) return false;
              f.phase = 5;
              f.count = 1;
              return true;
            default:  // 5: fraction digits
              if (digit(c) && f.count < n.max) {
                ++f.count;
                return true;
              }
              --size;
              continue;
          }
        }
        case NodeKind::kArray:
          switch (f.phase) {
            case 0:
              if (c != '[') return false;
              f.phase = 1;
              return true;
            case 1:
              if (c == ']' && n.min == 0) {
                --size;
                return true;
              }
              f.phase = 2;
              f.count = 1;
              if (!push(n.child, f.depth + 1)) return false;
              continue;
            case 2:
              if (c == ',' && f.count < n.max) {
                f.phase = 3;
                return true;
              }
              if (c == ']' && f.count >= n.min) {
                --size;
                return true;
              }
              return false;
            default:  // 3: after ','
              f.phase = 2;
              ++f.count;
              if (!push(n.child, f.depth + 1)) return false;
              continue;
          }
        case NodeKind::kAnyValue: {
          const int depth = f.depth;
          const bool nest = depth < g->limits.max_depth;
          if (c == '{' && nest) {
            stack[size_t(size - 1)] = {any_object_node(), 0, 0, 0, int16_t(depth), 0};
            continue;
          }
          if (c == '[' && nest) {
            stack[size_t(size - 1)] = {any_array_node(), 0, 0, 0, int16_t(depth), 0};
            continue;
          }
          if (c == '"') {
            replace(g->any_string, depth);
            continue;
          }
          if (c == '-' || digit(c)) {
            replace(g->any_number, depth);
            continue;
          }
          if (c == 't' || c == 'f' || c == 'n') {
            replace(g->any_scalar_literal, depth);
            continue;
          }
          return false;
        }
        case NodeKind::kAnyObject:
          switch (f.phase) {
            case 0:
              if (c != '{') return false;
              f.phase = 1;
              return true;
            case 1:  // after '{'
              if (c == '}') {
                --size;
                return true;
              }
              f.count = 1;
              f.phase = 2;
              if (!push(g->any_key, f.depth)) return false;
              continue;
            case 2:  // after a key
              if (c != ':') return false;
              f.phase = 3;
              return true;
            case 3:
              f.phase = 4;
              if (!push(g->any_value, f.depth + 1)) return false;
              continue;
            case 4:  // after a value
              if (c == ',' && f.count < g->limits.max_members) {
                ++f.count;
                f.phase = 5;
                return true;
              }
              if (c == '}') {
                --size;
                return true;
              }
              return false;
            default:  // 5: after ','
              f.phase = 2;
              if (!push(g->any_key, f.depth)) return false;
              continue;
          }
        case NodeKind::kFreeText:
          if (uint8_t(n.text[size_t(f.pos)]) == c) {
            if (++f.pos == int(n.text.size())) --size;
            return true;
          }
          if (f.count >= n.max) return false;  // past the budget only the end marker may follow
          f.pos = uint8_t(n.text[0]) == c ? 1 : 0;
          ++f.count;
          return true;
      }
    }
  }

  int any_object_node() const { return g->any_value + kAnyObjectOffset; }
  int any_array_node() const { return g->any_value + kAnyArrayOffset; }
  static constexpr int kAnyObjectOffset = 5;  // see add_any_containers
  static constexpr int kAnyArrayOffset = 6;
};

// The containers of unknown shape sit right after the scalars init_any adds (offsets above).
void add_any_containers(Grammar& g) {
  const int object = g.add({.kind = NodeKind::kAnyObject});
  const int array = g.add({.kind = NodeKind::kArray, .child = g.any_value, .min = 0, .max = g.limits.max_items});
  DSV4_CHECK(object == g.any_value + Matcher::kAnyObjectOffset && array == g.any_value + Matcher::kAnyArrayOffset);
}

std::shared_ptr<Grammar> new_grammar(const GrammarLimits& limits) {
  auto g = std::make_shared<Grammar>();
  g->init_any(limits);
  add_any_containers(*g);
  return g;
}

// thinking: free reasoning up to the budget, then "</think>", then `body`.
int with_reasoning(Grammar& g, int body, bool thinking) {
  if (!thinking) return body;
  const int free = g.add({.kind = NodeKind::kFreeText, .text = std::string(kThinkEnd), .max = g.limits.max_reasoning});
  return g.add({.kind = NodeKind::kSeq, .items = {free, body}});
}

const JsonValue* member(const JsonValue& obj, std::string_view key) { return obj.find(key); }

Result<int> int_keyword(const JsonValue& s, std::string_view key, int fallback) {
  const JsonValue* v = member(s, key);
  if (v == nullptr) return fallback;
  if (v->kind != JsonValue::Kind::kInt || v->text.size() > 6 || v->text[0] == '-')
    return Status::error("schema: '{}' must be a small non-negative integer", key);
  return std::stoi(v->text);
}

// Compiles a schema into a value node. `raw`: a DSML parameter value, where strings are written raw.
Result<int> compile(Grammar& g, const JsonValue& s, bool raw, int depth) {
  if (depth > 16) return Status::error("schema: nested too deeply");
  if (!s.is_object()) {
    if (s.kind == JsonValue::Kind::kBool && s.boolean) return g.any_value;  // `true` schema
    return Status::error("schema: expected an object");
  }
  static const char* const kUnsupported[] = {"anyOf", "oneOf", "allOf", "not", "$ref", "pattern", "patternProperties",
                                             "if", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                                             "multipleOf", "uniqueItems", "prefixItems", "format"};
  for (const char* k : kUnsupported)
    if (member(s, k) != nullptr) return Status::error("schema: the keyword '{}' is not supported", k);
  const auto alternatives = [&](std::vector<const JsonValue*> values) -> Result<int> {
    std::vector<std::string> alts;
    for (const JsonValue* v : values) alts.push_back(raw && v->is_string() ? v->text : to_json_text(*v));
    if (alts.empty() || int(alts.size()) > kMaxAlternatives)
      return Status::error("schema: 'enum' needs 1 to {} values", kMaxAlternatives);
    for (const std::string& a : alts) {
      if (a.empty()) return Status::error("schema: empty enum strings are not supported");
      for (unsigned char ch : a)
        if (!printable(ch) || (raw && ch == '<')) return Status::error("schema: enum values must be printable ASCII");
    }
    return g.add({.kind = NodeKind::kEnum, .alts = std::move(alts)});
  };
  if (const JsonValue* e = member(s, "enum")) {
    if (!e->is_array()) return Status::error("schema: 'enum' must be an array");
    std::vector<const JsonValue*> values;
    for (const JsonValue& v : e->items) values.push_back(&v);
    return alternatives(values);
  }
  if (const JsonValue* c = member(s, "const")) return alternatives({c});
  const JsonValue* type = member(s, "type");
  if (type == nullptr) return g.any_value;
  if (!type->is_string()) return Status::error("schema: 'type' must be one string");
  const std::string& t = type->text;
  const GrammarLimits& l = g.limits;
  if (t == "string") {
    DSV4_ASSIGN_OR_RETURN(const int lo, int_keyword(s, "minLength", 0));
    DSV4_ASSIGN_OR_RETURN(const int hi, int_keyword(s, "maxLength", std::max(l.max_string, lo)));
    if (lo > hi) return Status::error("schema: minLength > maxLength");
    return g.add({.kind = raw ? NodeKind::kRawString : NodeKind::kString, .min = lo, .max = std::min(hi, std::max(lo, 4096))});
  }
  if (t == "integer") return g.add({.kind = NodeKind::kInteger, .max = l.max_digits});
  if (t == "number") return g.add({.kind = NodeKind::kNumber, .max = l.max_digits});
  if (t == "boolean") return g.add({.kind = NodeKind::kEnum, .alts = {"true", "false"}});
  if (t == "null") return g.literal("null");
  if (t == "array") {
    const JsonValue* items = member(s, "items");
    int child = g.any_value;
    if (items != nullptr) {
      DSV4_ASSIGN_OR_RETURN(child, compile(g, *items, false, depth + 1));
    }
    DSV4_ASSIGN_OR_RETURN(const int lo, int_keyword(s, "minItems", 0));
    DSV4_ASSIGN_OR_RETURN(const int hi, int_keyword(s, "maxItems", std::max(l.max_items, lo)));
    if (lo > hi) return Status::error("schema: minItems > maxItems");
    return g.add({.kind = NodeKind::kArray, .child = child, .min = lo, .max = std::max(1, std::min(hi, std::max(lo, 64)))});
  }
  if (t == "object") {
    const JsonValue* props = member(s, "properties");
    if (props == nullptr || (props->is_object() && props->members.empty())) {
      return g.any_value + Matcher::kAnyObjectOffset;
    }
    if (!props->is_object()) return Status::error("schema: 'properties' must be an object");
    std::vector<std::string> keys;
    if (const JsonValue* req = member(s, "required")) {
      if (!req->is_array()) return Status::error("schema: 'required' must be an array");
      for (const JsonMember& m : props->members)
        for (const JsonValue& r : req->items)
          if (r.is_string() && r.text == m.key) keys.push_back(m.key);
      for (const JsonValue& r : req->items)
        if (!r.is_string() || props->find(r.text) == nullptr)
          return Status::error("schema: required property {} is not in 'properties'", to_json_text(r));
    } else {
      for (const JsonMember& m : props->members) keys.push_back(m.key);
    }
    if (keys.empty()) return g.literal("{}");
    GrammarNode seq{.kind = NodeKind::kSeq};
    for (size_t i = 0; i < keys.size(); ++i) {
      for (unsigned char ch : keys[i])
        if (!printable(ch) || ch == '"' || ch == '\\') return Status::error("schema: property names must be plain ASCII");
      seq.items.push_back(g.literal((i == 0 ? "{" : ",") + json_string(keys[i]) + ":"));
      DSV4_ASSIGN_OR_RETURN(const int v, compile(g, *props->find(keys[i]), false, depth + 1));
      seq.items.push_back(v);
    }
    seq.items.push_back(g.literal("}"));
    return g.add(std::move(seq));
  }
  return Status::error("schema: unsupported type '{}'", t);
}

// A DSML invoke body for one function, after its header: the parameters, then the closing tags.
Result<int> compile_invoke(Grammar& g, const JsonValue& function, const DsmlTags& tags) {
  GrammarNode seq{.kind = NodeKind::kSeq};
  const JsonValue* params = function.find("parameters");
  std::vector<std::string> keys;
  const JsonValue* props = params != nullptr ? params->find("properties") : nullptr;
  if (props != nullptr && props->is_object()) {
    const JsonValue* req = params->find("required");
    for (const JsonMember& m : props->members) {
      bool wanted = req == nullptr || !req->is_array();
      if (!wanted)
        for (const JsonValue& r : req->items) wanted = wanted || (r.is_string() && r.text == m.key);
      if (wanted) keys.push_back(m.key);
    }
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    const JsonValue& schema = *props->find(keys[i]);
    const JsonValue* type = schema.find("type");
    const bool is_string = (type != nullptr && type->is_string() && type->text == "string") ||
                           (schema.find("enum") != nullptr && schema.find("enum")->is_array() &&
                            !schema.find("enum")->items.empty() &&
                            std::all_of(schema.find("enum")->items.begin(), schema.find("enum")->items.end(),
                                        [](const JsonValue& v) { return v.is_string(); }));
    std::string open = i == 0 ? "" : "\n";
    open += std::string(tags.parameter_open) + " name=\"" + keys[i] + "\" string=\"" + (is_string ? "true" : "false") + "\">";
    seq.items.push_back(g.literal(open));
    Result<int> value = compile(g, schema, is_string, 1);
    if (!value) return value.status().with_context("parameter '" + keys[i] + "': ");
    seq.items.push_back(value.value());
    seq.items.push_back(g.literal(std::string(tags.parameter_close) + ">"));
  }
  seq.items.push_back(g.literal("\n" + std::string(tags.invoke_close) + ">\n" + std::string(tags.block_close)));
  return g.add(std::move(seq));
}

}  // namespace

Result<std::shared_ptr<const Grammar>> json_schema_grammar(const JsonValue& schema, bool thinking,
                                                          const GrammarLimits& limits) {
  std::shared_ptr<Grammar> g = new_grammar(limits);
  DSV4_ASSIGN_OR_RETURN(const int body, compile(*g, schema, false, 0));
  g->root = with_reasoning(*g, g->add({.kind = NodeKind::kSeq, .items = {body}}), thinking);
  return std::shared_ptr<const Grammar>(std::move(g));
}

std::shared_ptr<const Grammar> json_object_grammar(bool thinking, const GrammarLimits& limits) {
  std::shared_ptr<Grammar> g = new_grammar(limits);
  g->root = with_reasoning(*g, g->any_value + Matcher::kAnyObjectOffset, thinking);
  return g;
}

Result<std::shared_ptr<const Grammar>> tool_call_grammar(std::span<const JsonValue> functions, std::string_view only,
                                                        bool thinking, const DsmlTags& tags,
                                                        const GrammarLimits& limits) {
  std::shared_ptr<Grammar> g = new_grammar(limits);
  GrammarNode names{.kind = NodeKind::kSwitch};
  for (const JsonValue& fn : functions) {
    const JsonValue* name = fn.find("name");
    if (name == nullptr || !name->is_string() || name->text.empty()) return Status::error("tools: a function without a name");
    if (!only.empty() && name->text != only) continue;
    for (unsigned char ch : name->text)
      if (!printable(ch) || ch == '"') return Status::error("tools: function names must be printable ASCII without '\"'");
    Result<int> body = compile_invoke(*g, fn, tags);
    if (!body) return body.status().with_context("tools: function '" + name->text + "': ");
    names.alts.push_back(name->text + "\">\n");
    names.items.push_back(body.value());
  }
  if (names.alts.empty()) return Status::error("tool_choice: no tool named '{}'", only);
  if (int(names.alts.size()) > kMaxAlternatives) return Status::error("tools: at most {} functions", kMaxAlternatives);
  // The block as the format writes it after content (§6.1): a blank line, then the tags.
  const int head = g->literal("\n\n" + std::string(tags.block_open) + ">\n" + std::string(tags.invoke_open) + " name=\"");
  const int choice = g->add(std::move(names));
  g->root = with_reasoning(*g, g->add({.kind = NodeKind::kSeq, .items = {head, choice}}), thinking);
  return std::shared_ptr<const Grammar>(std::move(g));
}

// ---- Tokens -----------------------------------------------------------------------------------------

VocabTrie::VocabTrie(const Tokenizer& tokenizer, int64_t vocab_size) {
  // Built through a map per node, then flattened (children sorted by byte).
  std::vector<std::map<uint8_t, uint32_t>> children(1);
  std::vector<std::vector<int32_t>> ends(1);
  for (int32_t id = 0; id < vocab_size; ++id) {
    Result<std::string_view> piece = tokenizer.piece(id);
    if (!piece || piece->empty()) continue;
    uint32_t at = 0;
    for (unsigned char ch : piece.value()) {
      auto it = children[at].find(ch);
      if (it == children[at].end()) {
        it = children[at].emplace(ch, uint32_t(children.size())).first;
        const uint32_t next = it->second;
        children.emplace_back();
        ends.emplace_back();
        at = next;
      } else {
        at = it->second;
      }
    }
    ends[at].push_back(id);
  }
  pieces_.resize(size_t(vocab_size));
  for (int32_t id = 0; id < vocab_size; ++id)
    if (Result<std::string_view> piece = tokenizer.piece(id); piece) pieces_[size_t(id)] = std::string(piece.value());
  const auto prefix = [&](auto plain) {
    std::vector<uint32_t> out(pieces_.size());
    for (size_t i = 0; i < pieces_.size(); ++i) {
      uint32_t n = 0;
      while (n < pieces_[i].size() && plain(uint8_t(pieces_[i][n]))) ++n;
      out[i] = n;
    }
    return out;
  };
  plain_[kJsonString] = prefix([](uint8_t c) { return printable(c) && c != '"' && c != '\\'; });
  plain_[kRawValue] = prefix([](uint8_t c) { return printable(c) && c != '<'; });
  plain_[kFreeText] = prefix([](uint8_t c) { return c != '<'; });
  nodes_.resize(children.size());
  for (size_t i = 0; i < children.size(); ++i) {
    nodes_[i] = {uint32_t(edges_.size()), uint32_t(children[i].size()), uint32_t(tokens_.size()), uint32_t(ends[i].size())};
    for (const auto& [byte, node] : children[i]) edges_.push_back({byte, node});
    tokens_.insert(tokens_.end(), ends[i].begin(), ends[i].end());
  }
}

struct TokenConstraint::State {
  Matcher m;
};

TokenConstraint::TokenConstraint(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const VocabTrie> trie,
                                 int32_t eos_id)
    : grammar_(std::move(grammar)), trie_(std::move(trie)), eos_(eos_id), state_(std::make_unique<State>()) {
  state_->m.g = grammar_.get();
  state_->m.push(grammar_->root, 0);
}

TokenConstraint::~TokenConstraint() = default;

bool TokenConstraint::complete() const { return state_->m.can_end(); }

namespace {

// Depth-first over the trie: every token whose bytes the matcher accepts from `m` is allowed; a branch
// ends where the matcher rejects. Each level copies only the live frames of its matcher.
void walk(const VocabTrie& trie, uint32_t node, const Matcher& m, int32_t eos, std::vector<uint8_t>& allowed,
          bool& any) {
  const VocabTrie::Node& n = trie.nodes()[node];
  if (node != 0)
    for (uint32_t t = n.first_token; t < n.first_token + n.n_tokens; ++t) {
      const int32_t id = trie.tokens()[t];
      if (size_t(id) < allowed.size() && id != eos) {
        allowed[size_t(id)] = 1;
        any = true;
      }
    }
  Matcher next;
  for (uint32_t e = n.first_edge; e < n.first_edge + n.n_edges; ++e) {
    next.g = m.g;
    next.size = m.size;
    std::copy_n(m.stack.begin(), m.size, next.stack.begin());
    if (next.feed(trie.edges()[e].byte)) walk(trie, trie.edges()[e].node, next, eos, allowed, any);
  }
}

// States that only count plain bytes (inside a string value, free reasoning) allow most of the
// vocabulary; walking the trie there costs a matcher step per trie node. Instead each token is judged
// from its plain prefix: all plain → allowed within the length budget; otherwise the matcher runs from
// the first non-plain byte only. Returns false when the state is not such a state.
bool mask_plain(const VocabTrie& trie, const Matcher& m, int32_t eos, std::vector<uint8_t>& allowed, bool& any) {
  const Frame& top = m.stack[size_t(m.size - 1)];
  const GrammarNode& n = m.g->nodes[size_t(top.node)];
  VocabTrie::PlainClass cls;
  if (n.kind == NodeKind::kString && top.phase == 1) cls = VocabTrie::kJsonString;
  else if (n.kind == NodeKind::kRawString) cls = VocabTrie::kRawValue;
  else if (n.kind == NodeKind::kFreeText && top.pos == 0) cls = VocabTrie::kFreeText;
  else return false;
  const int64_t budget = int64_t(n.max) - top.count;
  Matcher x;
  for (size_t id = 0; id < allowed.size(); ++id) {
    const std::string_view piece = trie.piece(int32_t(id));
    if (piece.empty() || int32_t(id) == eos) continue;
    const uint32_t p = trie.plain_prefix(cls, int32_t(id));
    if (int64_t(p) > budget) continue;
    if (p < piece.size()) {
      x.g = m.g;
      x.size = m.size;
      std::copy_n(m.stack.begin(), m.size, x.stack.begin());
      x.stack[size_t(x.size - 1)].count += int32_t(p);
      bool ok = true;
      for (size_t i = p; i < piece.size() && ok; ++i) ok = x.feed(uint8_t(piece[i]));
      if (!ok) continue;
    }
    allowed[id] = 1;
    any = true;
  }
  return true;
}

}  // namespace

void TokenConstraint::mask(std::span<float> logits) const {
  std::vector<uint8_t> allowed(logits.size(), 0);
  bool any = false;
  // Enter the sequences feed() would enter before its next byte, so that the state that decides is on top.
  Matcher m = state_->m;
  while (m.size > 0) {
    Frame& f = m.stack[size_t(m.size - 1)];
    const GrammarNode& n = grammar_->nodes[size_t(f.node)];
    if (n.kind != NodeKind::kSeq || f.pos == int(n.items.size()) || !m.push(n.items[size_t(f.pos++)], f.depth)) break;
  }
  if (m.size == 0 || !mask_plain(*trie_, m, eos_, allowed, any)) walk(*trie_, 0, m, eos_, allowed, any);
  if (size_t(eos_) < allowed.size() && (complete() || !any)) allowed[size_t(eos_)] = 1;
  for (size_t i = 0; i < logits.size(); ++i)
    if (!allowed[i]) logits[i] = -std::numeric_limits<float>::infinity();
}

bool TokenConstraint::allows(int32_t token) const {
  if (token == eos_) return complete();
  const std::string_view piece = trie_->piece(token);
  Matcher next = state_->m;
  for (unsigned char ch : piece)
    if (!next.feed(ch)) return false;
  return !piece.empty();
}

bool TokenConstraint::accept(int32_t token) {
  if (!allows(token)) return false;
  if (token == eos_) return true;
  for (unsigned char ch : trie_->piece(token)) state_->m.feed(ch);
  return true;
}

std::string TokenConstraint::forced_text() const {
  Matcher m = state_->m;
  std::string out;
  while (m.size > 0) {
    Frame& f = m.stack[size_t(m.size - 1)];
    const GrammarNode& n = grammar_->nodes[size_t(f.node)];
    if (n.kind == NodeKind::kLiteral) {
      out.append(n.text, size_t(f.pos));
      --m.size;
    } else if (n.kind == NodeKind::kSeq) {
      if (f.pos == int(n.items.size())) {
        --m.size;
        continue;
      }
      const NodeKind next = grammar_->nodes[size_t(n.items[size_t(f.pos)])].kind;
      if (next != NodeKind::kLiteral && next != NodeKind::kSeq && next != NodeKind::kSwitch) break;
      m.push(n.items[size_t(f.pos++)], f.depth);
    } else if (n.kind == NodeKind::kSwitch && std::popcount(f.alive) == 1) {
      const int a = std::countr_zero(f.alive);  // the one alternative left: its text and continuation
      out.append(n.alts[size_t(a)], size_t(f.pos));
      m.replace(n.items[size_t(a)], f.depth);
    } else {
      break;
    }
  }
  return out;
}

bool TokenConstraint::matches(const Grammar& grammar, std::string_view text) {
  Matcher m;
  m.g = &grammar;
  m.push(grammar.root, 0);
  for (unsigned char ch : text)
    if (!m.feed(ch)) return false;
  return m.can_end();
}

}  // namespace dsv4
