#!/usr/bin/env python3
"""Writes tests/data/tiny-tokenizer/: a byte-level BPE tokenizer.json + tokenizer_config.json whose 512 ids
fit the golden models' vocabulary (vocab_size 512), so that `dsv4 run` / `chat` can be tested end to end
on them. Layout: ids 0..16 the V4 control strings (BOS 0 and EOS 1 as in DeepSeek's tokenizer), then the
256 byte tokens, then merges learned on data/tinyshakespeare.txt. Standard library only; deterministic.
"""
import collections
import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "tiny-tokenizer"
VOCAB = 512
SPECIAL = ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜▁pad▁｜>", "<｜User｜>", "<｜Assistant｜>",
           "<think>", "</think>", "｜DSML｜", "<｜latest_reminder｜>", "<｜action｜>", "<｜query｜>",
           "<｜authority｜>", "<｜domain｜>", "<｜title｜>", "<｜read_url｜>", "<tool_result>", "</tool_result>"]


def byte_alphabet():
    """GPT-2's byte → printable character map (the ByteLevel pre-tokenizer's)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def main():
    alphabet = byte_alphabet()
    text = (ROOT / "data" / "tinyshakespeare.txt").read_text(encoding="utf-8")
    words = collections.Counter(re.findall(r" ?[A-Za-z]+| ?[0-9]| ?[^\sA-Za-z0-9]+|\s+", text))
    seqs = {w: [alphabet[b] for b in w.encode("utf-8")] for w in words}
    vocab = {}
    for i, s in enumerate(SPECIAL):
        vocab[s] = i
    for b in range(256):
        vocab[alphabet[b]] = len(SPECIAL) + b
    merges = []
    while len(vocab) < VOCAB:
        pairs = collections.Counter()
        for w, n in words.items():
            s = seqs[w]
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += n
        (a, b), _ = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        merges.append(f"{a} {b}")
        vocab[a + b] = len(vocab)
        for w in words:
            s, out, i = seqs[w], [], 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out
    model_vocab = {k: v for k, v in vocab.items() if v >= len(SPECIAL)}
    tok = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i, s in enumerate(SPECIAL)],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}"}, "behavior": "Isolated", "invert": False},
            {"type": "Split", "pattern": {"Regex": " ?\\p{L}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"},
             "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": model_vocab, "merges": merges},
    }
    config = {"add_bos_token": True, "add_eos_token": False,
              "bos_token": {"__type": "AddedToken", "content": SPECIAL[0]},
              "eos_token": {"__type": "AddedToken", "content": SPECIAL[1]},
              "model_max_length": 1024, "tokenizer_class": "LlamaTokenizerFast"}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "tokenizer.json").write_text(json.dumps(tok, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (OUT / "tokenizer_config.json").write_text(json.dumps(config, ensure_ascii=False, indent=1) + "\n",
                                               encoding="utf-8")
    print(f"wrote {OUT}: {len(vocab)} ids, {len(merges)} merges")


if __name__ == "__main__":
    main()
