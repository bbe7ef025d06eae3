#!/usr/bin/env python3
"""Makes a static word-vector table (format PDSWV3, read by
src/coding/word_vectors/mod.rs: a text's vector is the sum of the rows of every
piece of every word, stop words too, unweighted) from WordLlama's "l2_supercat" token
embeddings: 32,000 tokens of the Llama 2 SentencePiece vocabulary, 256
dimensions (float16), *trained* as a static model (token lookup, mean pooling,
contrastive training on sentence pairs; Matryoshka, so the first 64 or 128
dimensions are usable alone). They ship inside the PyPI package `wordllama`
0.4.0.post1 (MIT licence; the codebooks it was trained from are those of
Llama 2 70B and Phi-3 medium, see the package's README), so nothing is
downloaded at run time and no model is run: this script only re-keys and
quantises the table.

Unlike scripts/make-word-vectors-minilm.py there is no distillation step (no
forward pass): the vectors are the trained model itself.

1. Pieces (language 2): every token of the vocabulary except the special and
   byte tokens, lower-cased and accents stripped; a word-initial token
   ("\u2581card") is keyed "card", a continuation ("ash") "##ash", the
   convention src/coding/word_vectors/mod.rs's greedy longest match expects
   (on 4,000 Banking77 dev texts that greedy match found the same nearest
   texts as the model's own BPE: 70.7% against 70.8% sharing a label).
   When several tokens fall on one key ("\u2581Card", "\u2581card") the
   lower-case token's vector wins, else their mean.
2. English stems (language 1): the English Snowball stem of each word-initial
   token of 2+ letters a-z (after lower-casing), the mean of the tokens sharing
   a stem ("card", "cards" -> "card"). Swedish words reach these rows through
   the glossary (there are no Swedish rows).
3. The first DIMS dimensions (Matryoshka: no PCA), each row stored as int8 of
   its direction plus an f32 length: the raw length of the token vector, as
   WordLlama's own mean pooling weights tokens by it.

Reproduce (Python 3.11, CPU only; seconds):
    pip download --no-deps -d /tmp/w wordllama==0.4.0.post1 && unzip -d /tmp/w /tmp/w/*.whl
    pip install numpy==2.4.6 snowballstemmer==3.1.1
    WORDLLAMA_DIR=/tmp/w/wordllama python3 scripts/make-word-vectors-wordllama.py /tmp/wordllama-64.pdswv
Environment: DIMS (default 64; 128 or 256 also work: Banking77 dev grouped as
well with 64 as with 128 or 256, docs/coding-wordllama.md).
"""
import json
import os
import re
import struct
import sys
import unicodedata

import numpy as np
import snowballstemmer

BASE = os.environ["WORDLLAMA_DIR"]
DIMS = int(os.environ.get("DIMS", "64"))
WEIGHTS = os.path.join(BASE, "weights", "l2_supercat_256.safetensors")
TOKENIZER = os.path.join(BASE, "tokenizers", "l2_supercat_tokenizer_config.json")


def load_safetensors(path):
    """The tensors of a .safetensors file (8-byte header length, JSON header,
    raw little-endian data), without the safetensors package."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack_from("<Q", raw, 0)
    header = json.loads(raw[8 : 8 + n])
    dtypes = {"F16": "<f2", "F32": "<f4", "BF16": None}
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        dt = dtypes[meta["dtype"]]
        start, end = meta["data_offsets"]
        out[name] = np.frombuffer(raw, dt, (end - start) // np.dtype(dt).itemsize, 8 + n + start).reshape(
            meta["shape"]
        )
    return out


def fold(s):
    """Lower-cased, accents stripped (as the Rust piece lookup folds a word)."""
    return "".join(c for c in unicodedata.normalize("NFD", s.lower()) if not unicodedata.combining(c))


def main(out_path):
    emb = load_safetensors(WEIGHTS)["embedding.weight"].astype(np.float32)
    assert emb.shape == (32000, 256), emb.shape
    emb = emb[:, :DIMS]
    tok = json.load(open(TOKENIZER, encoding="utf-8"))
    vocab = tok["model"]["vocab"]
    special = {t["content"] for t in tok["added_tokens"]}

    # 1. pieces
    by_key = {}
    for token, i in vocab.items():
        if token in special or re.fullmatch(r"<0x[0-9A-F]{2}>", token):
            continue
        if token.startswith("\u2581"):
            key = fold(token[1:])
            if not key:
                continue
        else:
            key = "##" + fold(token)
        exact = token.lstrip("\u2581") == token.lstrip("\u2581").lower()
        by_key.setdefault(key, []).append((exact, i))
    pieces = {}
    for key, ids in by_key.items():
        lower = [i for exact, i in ids if exact]
        pieces[key] = emb[lower if lower else [i for _, i in ids]].mean(0)

    # 2. English stems of whole-word tokens
    stemmer = snowballstemmer.stemmer("english")
    by_stem = {}
    for key, vec in pieces.items():
        if re.fullmatch(r"[a-z]{2,}", key):
            by_stem.setdefault(stemmer.stemWord(key), []).append(vec)
    stems = {s: np.mean(v, axis=0) for s, v in by_stem.items()}

    entries = [(1, s, v) for s, v in sorted(stems.items())]
    entries += [(2, k, v) for k, v in sorted(pieces.items()) if len(k.encode()) < 256]
    # 3. int8 direction + f32 length per row
    mat = np.stack([v for _, _, v in entries])
    lengths = np.linalg.norm(mat, axis=1).astype("<f4")
    scale = np.abs(mat).max(axis=1, keepdims=True)
    scale[scale == 0] = 1
    q = np.clip(np.round(mat / scale * 127), -127, 127).astype(np.int8)

    with open(out_path, "wb") as f:
        f.write(b"PDSWV3\0\0")
        f.write(struct.pack("<II", DIMS, len(entries)))
        for lang, key, _ in entries:
            b = key.encode()
            f.write(bytes([lang, len(b)]))
            f.write(b)
        f.write(q.tobytes())
        f.write(lengths.tobytes())
    print(
        f"{out_path}: {len(stems)} English stems, {len(entries) - len(stems)} pieces, "
        f"{DIMS} dimensions, {os.path.getsize(out_path)} bytes",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main(sys.argv[1])
