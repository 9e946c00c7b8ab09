#!/usr/bin/env python3
"""PyTorch reference of flowaction's trainer (activation architecture, cubic units).

Same model as `flowaction train --arch activation --activation cubic --latent-couplings 0
--schedule constant`: [affine, cubic] x L, affine; phi(u) = u + alpha u^3 per unit, alpha trained
directly and projected onto alpha >= 0 after each step; the first affine layer starts as the
standardisation of the training split, the last as the inverse square root of its correlation
matrix, the others as W = I, b = 0; alpha starts at min(0.01, 0.02 / L). Adam, float64,
mini-batches, held-out split. Prints the mean epoch time and the final NLLs, and the NLL of a flowaction model
file on the same test set (so that both trainers are compared on identical held-out data).

usage: train_torch.py DATA.npy TEST.npy CPP_MODEL.flow.json --layers L --epochs E --batch B
                      --lr LR --val V --seed S --threads T
"""
import argparse, json, math, sys, time

import numpy as np
import torch

LOG2PI = math.log(2 * math.pi)


class Flow(torch.nn.Module):
    def __init__(self, d, layers):
        super().__init__()
        self.d = d
        self.W = torch.nn.ParameterList()
        self.b = torch.nn.ParameterList()
        self.theta = torch.nn.ParameterList()
        a0 = min(0.01, 0.02 / layers) if layers else 0.0
        for k in range(layers + 1):
            self.W.append(torch.nn.Parameter(torch.eye(d, dtype=torch.float64)))
            self.b.append(torch.nn.Parameter(torch.zeros(d, dtype=torch.float64)))
            if k < layers:
                self.theta.append(torch.nn.Parameter(torch.full((d,), a0, dtype=torch.float64)))

    def nll(self, x):
        """Per-sample S(x) = 1/2 |f(x)|^2 + d/2 ln 2pi - ln|det df/dx|."""
        logdet = torch.zeros(x.shape[0], dtype=x.dtype)
        y = x
        for k in range(len(self.W)):
            y = y @ self.W[k].T + self.b[k]
            logdet = logdet + torch.linalg.slogdet(self.W[k])[1]
            if k < len(self.theta):
                a = self.theta[k]
                y2 = y * y
                logdet = logdet + torch.log1p(3 * a * y2).sum(1)
                y = y + a * y2 * y
        return 0.5 * (y * y).sum(1) + 0.5 * self.d * LOG2PI - logdet


def cpp_model_nll(path, x):
    """NLL per sample of a flowaction/1 manifest written by `flowaction train` (affine/cubic coeffs)."""
    m = json.load(open(path))
    y = x
    logdet = torch.zeros(x.shape[0], dtype=x.dtype)
    for layer in m["layers"]:
        if layer["type"] == "affine":
            W = torch.tensor(layer["W"], dtype=torch.float64)
            y = y @ W.T + torch.tensor(layer["b"], dtype=torch.float64)
            logdet = logdet + torch.linalg.slogdet(W)[1]
        elif layer["type"] == "activation":
            a = torch.tensor([row[2] if len(row) > 2 else 0.0 for row in layer["coeffs"]], dtype=torch.float64)
            y2 = y * y
            logdet = logdet + torch.log1p(3 * a * y2).sum(1)
            y = y + a * y2 * y
        else:
            raise SystemExit(f"{path}: layer type {layer['type']} not handled by this benchmark")
    return 0.5 * (y * y).sum(1) + 0.5 * m["dim"] * LOG2PI - logdet


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("test")
    p.add_argument("cpp_model")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--val", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    o = p.parse_args()
    torch.set_num_threads(o.threads)
    torch.manual_seed(o.seed)
    rng = np.random.default_rng(o.seed)
    data = torch.tensor(np.load(o.data).astype(np.float64))
    test = torch.tensor(np.load(o.test).astype(np.float64))
    n, d = data.shape
    perm = torch.tensor(rng.permutation(n))
    n_val = max(1, round(o.val * n))
    train, val = data[perm[: n - n_val]], data[perm[n - n_val:]]

    flow = Flow(d, o.layers)
    with torch.no_grad():  # the start flowaction makes for a flow ending with an affine layer
        mu = train.mean(0)
        cov = (train - mu).T @ (train - mu) / train.shape[0]
        inv_sd = 1 / cov.diagonal().sqrt()
        flow.W[0].copy_(torch.diag(inv_sd))
        flow.b[0].copy_(-inv_sd * mu)
        evals, evecs = torch.linalg.eigh(inv_sd[:, None] * cov * inv_sd[None, :])
        flow.W[-1].copy_(evecs @ torch.diag(evals.rsqrt()) @ evecs.T)
    opt = torch.optim.Adam(flow.parameters(), lr=o.lr)
    times = []
    for epoch in range(o.epochs):
        t0 = time.perf_counter()
        order = torch.randperm(train.shape[0])
        for s in range(0, train.shape[0], o.batch):
            xb = train[order[s:s + o.batch]]
            loss = flow.nll(xb).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():  # the projection that keeps u + alpha u^3 invertible
                for t in flow.theta:
                    t.clamp_(min=0)
        with torch.no_grad():
            val_nll = flow.nll(val).mean().item()
        times.append(time.perf_counter() - t0)
    with torch.no_grad():
        t_torch = flow.nll(test)
        t_cpp = cpp_model_nll(o.cpp_model, test)
        diff = t_cpp - t_torch
    print(json.dumps({
        "epoch_seconds": sum(times) / len(times),
        "val_nll": val_nll,
        "test_nll_torch": t_torch.mean().item(),
        "test_nll_cpp": t_cpp.mean().item(),
        "test_nll_diff_cpp_minus_torch": diff.mean().item(),
        "test_nll_diff_stderr": (diff.std() / math.sqrt(len(diff))).item(),
        "test_nll_stderr": (t_torch.std() / math.sqrt(len(t_torch))).item(),
    }))


if __name__ == "__main__":
    sys.exit(main())
