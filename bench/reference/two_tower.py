#!/usr/bin/python3
"""The PyTorch reference for movielens_bench: the same two-tower model, on the same encoded data
(written by the bench: ids after StringLookup / Discretization / TextVectorization, normalised
timestamps), with the same batch size, shuffling per epoch, in-batch softmax with the summed
cross-entropy, and Adagrad with Keras semantics (initial accumulator 0.1, epsilon 1e-7 outside the
square root, which is torch.optim.Adagrad's form), on the same number of threads.

Model (experiments/movielens/two_tower.yaml): query = MLP(concat(user embedding 32, timestamp
bucket embedding 32, normalised timestamp)); candidate = MLP(concat(title embedding 32, masked mean
of title token embeddings 32)); MLP = Linear layers of the given sizes, ReLU between, last linear.
Initialisation as Keras: embeddings uniform(-0.05, 0.05), kernels Glorot uniform, biases zero.

Two variants are timed and the faster is reported: dense embedding gradients (PyTorch's default)
and sparse ones (sparse=True embeddings; Adagrad updates only the touched rows, as Keras and dagrad
do). Prints one JSON line. Run by movielens_bench; not a test.
"""
import argparse
import json
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def load(data_dir):
    meta = json.load(open(os.path.join(data_dir, "meta.json")))
    arrays = {}
    for a in meta["arrays"]:
        dtype = np.float32 if a["dtype"] == "f32" else np.int32
        x = np.fromfile(os.path.join(data_dir, f'{a["table"]}.{a["input"]}.bin'), dtype=dtype)
        x = x.reshape(int(a["rows"]), int(a["width"]))
        if a["dtype"] == "i32":
            t = torch.from_numpy(x.astype(np.int64))
            arrays[(a["table"], a["input"])] = t[:, 0] if a["input"] != "title_tokens" else t
        else:
            arrays[(a["table"], a["input"])] = torch.from_numpy(x)
    truth = np.fromfile(os.path.join(data_dir, "test.truth.bin"), dtype=np.int32)
    shapes = {p["name"]: [int(d) for d in p["shape"]] for p in meta["params"]}
    return meta, arrays, torch.from_numpy(truth.astype(np.int64)), shapes


def mlp(width, units):
    layers = []
    for i, u in enumerate(units):
        lin = nn.Linear(width, u)
        nn.init.xavier_uniform_(lin.weight)  # Glorot uniform, as Keras Dense
        nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i + 1 < len(units):
            layers.append(nn.ReLU())
        width = u
    return nn.Sequential(*layers)


class TwoTower(nn.Module):
    def __init__(self, shapes, units, sparse):
        super().__init__()

        def emb(name):
            e = nn.Embedding(*shapes[name + "/embeddings"], sparse=sparse)
            nn.init.uniform_(e.weight, -0.05, 0.05)
            return e

        self.user = emb("user_embedding")
        self.timestamp = emb("timestamp_embedding")
        self.title = emb("title_embedding")
        v, d = shapes["title_token_embedding/embeddings"]
        # Mean over the nonzero token ids (Keras mask_zero + GlobalAveragePooling1D); an all-padding
        # row gives zeros, as dagrad's MaskedMean.
        self.tokens = nn.EmbeddingBag(v, d, mode="mean", padding_idx=0, sparse=sparse)
        nn.init.uniform_(self.tokens.weight, -0.05, 0.05)
        self.query_mlp = mlp(2 * 32 + 1, units)
        self.candidate_mlp = mlp(2 * 32, units)

    def query(self, user, bucket, normalized):
        return self.query_mlp(torch.cat([self.user(user), self.timestamp(bucket), normalized], dim=1))

    def candidate(self, title, tokens):
        return self.candidate_mlp(torch.cat([self.title(title), self.tokens(tokens)], dim=1))


def train(arrays, shapes, units, meta, epochs, sparse, seed):
    torch.manual_seed(seed)
    model = TwoTower(shapes, units, sparse)
    opt = torch.optim.Adagrad(model.parameters(), lr=meta["learning_rate"], initial_accumulator_value=0.1, eps=1e-7)
    tr = {k[1]: v for k, v in arrays.items() if k[0] == "train"}
    n = tr["user_index"].shape[0]
    batch = int(meta["batch_size"])
    gen = torch.Generator().manual_seed(seed)
    times, losses = [], []
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for b in range(0, n, batch):
            idx = perm[b:b + batch]
            q = model.query(tr["user_index"][idx], tr["timestamp_bucket"][idx], tr["timestamp_normalized"][idx])
            c = model.candidate(tr["title_index"][idx], tr["title_tokens"][idx])
            logits = q @ c.T
            loss = F.cross_entropy(logits, torch.arange(idx.shape[0]), reduction="sum")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * idx.shape[0]
        times.append(time.perf_counter() - t0)
        losses.append(total / n)  # batch losses weighted by batch size, as dagrad's (and Keras') epoch loss
    return model, times, losses


def evaluate(model, arrays, truth, repeats):
    te = {k[1]: v for k, v in arrays.items() if k[0] == "test"}
    ca = {k[1]: v for k, v in arrays.items() if k[0] == "candidates"}
    ks = [1, 5, 10, 50, 100]
    times = []
    with torch.no_grad():
        for _ in range(repeats + 1):
            t0 = time.perf_counter()
            q = model.query(te["user_index"], te["timestamp_bucket"], te["timestamp_normalized"])
            c = model.candidate(ca["title_index"], ca["title_tokens"])
            scores = q @ c.T
            rank = (scores > scores.gather(1, truth[:, None])).sum(dim=1)
            acc = [float((rank < k).float().mean()) for k in ks]
            times.append(time.perf_counter() - t0)
    return statistics.median(times[1:]), dict(zip(ks, acc))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--towers", default="64,32")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--variants", default="dense,sparse")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    units = [int(u) for u in args.towers.split(",")]
    meta, arrays, truth, shapes = load(args.data)

    results = {}
    for variant in args.variants.split(","):
        model, times, losses = train(arrays, shapes, units, meta, args.warmup + args.epochs, variant == "sparse",
                                     int(meta["seed"]))
        results[variant] = (statistics.median(times[args.warmup:]), times, losses, model)
    best = min(results, key=lambda v: results[v][0])
    epoch_s, times, losses, model = results[best]
    eval_s, acc = evaluate(model, arrays, truth, 5)
    blas = sorted({line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.lower()})
    print(json.dumps({
        "towers": args.towers, "threads": args.threads, "torch_version": torch.__version__,
        "blas": blas, "variant": best + " embedding gradients",
        "epoch_s": epoch_s, "epoch_seconds": times, "final_loss": losses[-1],
        "variants": {v: {"epoch_s": r[0], "epoch_seconds": r[1]} for v, r in results.items()},
        "eval_topk_ms": eval_s * 1e3, "top_k": {str(k): a for k, a in acc.items()},
    }))


if __name__ == "__main__":
    main()
