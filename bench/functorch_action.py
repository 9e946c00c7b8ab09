#!/usr/bin/env python3
"""functorch reference of `flowaction extract`: Gamma^(4) of S(x) = -ln p(x) for a flowaction/1
manifest of affine and activation layers (weights inline), at x0 = 0, in float64, by jacfwd
nested over jacrev (the strongest PyTorch route for a 4th derivative tensor). Prints JSON:
seconds of the derivative alone, and the largest difference to flowaction's --dense npz.

usage: functorch_action.py MODEL.flow.json DENSE.npz [--threads T]
"""
import argparse, json, math, time

import numpy as np
import torch
from functorch import jacfwd, jacrev

p = argparse.ArgumentParser()
p.add_argument("model")
p.add_argument("dense")
p.add_argument("--threads", type=int, default=1)
a = p.parse_args()
torch.set_num_threads(a.threads)
m = json.load(open(a.model))
d = m["dim"]
layers = []
for l in m["layers"]:
    if l["type"] == "affine":
        W = torch.tensor(l["W"], dtype=torch.float64)
        b = torch.tensor(l.get("b", [0.0] * d), dtype=torch.float64)
        layers.append(("affine", W, b, torch.linalg.slogdet(W)[1]))
    elif l["type"] == "activation":
        c = torch.tensor(l["coeffs"], dtype=torch.float64)  # phi(u) = sum_k c_k u^k, k = 1 ...
        layers.append(("activation", c))
    else:
        raise SystemExit(f"layer type {l['type']} is not in this reference")


def action(x):
    logdet = 0.0
    for l in layers:
        if l[0] == "affine":
            x = l[1] @ x + l[2]
            logdet = logdet + l[3]
        else:
            c = l[1]  # (d, K) coefficients per unit
            powers = torch.stack([x ** (k + 1) for k in range(c.shape[1])], dim=1)
            slopes = torch.stack([(k + 1) * x ** k for k in range(c.shape[1])], dim=1)
            logdet = logdet + torch.log((c * slopes).sum(1)).sum()
            x = (c * powers).sum(1)
    return 0.5 * (x * x).sum() + 0.5 * d * math.log(2 * math.pi) - logdet


x0 = torch.zeros(d, dtype=torch.float64)
t0 = time.perf_counter()
g4 = jacfwd(jacfwd(jacfwd(jacrev(action))))(x0)
seconds = time.perf_counter() - t0
ours = np.load(a.dense)["gamma4"]
diff = float(np.max(np.abs(ours - g4.numpy())))
scale = float(np.max(np.abs(ours)))
print(json.dumps({"seconds": seconds, "max_abs_diff": diff, "max_abs": scale}))
