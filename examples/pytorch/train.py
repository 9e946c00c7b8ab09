#!/usr/bin/python3
"""Trains a small flow (affine, activation, coupling, affine) on correlated toy data by maximum
likelihood and exports it: python3 train.py OUT.flow.json, then flowaction extract OUT.flow.json.
With --actnorm an ActNorm layer, initialised from the data as in Glow, precedes the activation."""
import sys

import torch

from flowaction_torch import ActNorm, Activation, Affine, Coupling, Flow, export, fit

torch.manual_seed(0)
d = 3
x = torch.randn(2000, d) @ torch.tensor([[1.0, 0.3, 0.0], [0.0, 0.8, 0.2], [0.0, 0.0, 0.5]])
actnorm = [ActNorm(d)] if "--actnorm" in sys.argv[1:] else []
args = [a for a in sys.argv[1:] if a != "--actnorm"]
flow = Flow([Affine(d)] + actnorm + [Activation(d), Coupling([0, 0, 1], hidden=4), Affine(d)])
if actnorm:
    flow.initialize_actnorm(x)
loss = fit(flow, x, steps=200)
print(f"mean action after training: {loss:.4f} nats")
out = args[0] if args else "model.flow.json"
export(flow, out, out.replace(".flow.json", "") + ".safetensors")
