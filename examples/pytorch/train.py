#!/usr/bin/python3
"""Trains a small flow (affine, activation, coupling, affine) on correlated toy data by maximum
likelihood and exports it: python3 train.py OUT.flow.json, then flowaction extract OUT.flow.json."""
import sys

import torch

from flowaction_torch import Activation, Affine, Coupling, Flow, export, fit

torch.manual_seed(0)
d = 3
x = torch.randn(2000, d) @ torch.tensor([[1.0, 0.3, 0.0], [0.0, 0.8, 0.2], [0.0, 0.0, 0.5]])
flow = Flow([Affine(d), Activation(d), Coupling([0, 0, 1], hidden=4), Affine(d)])
loss = fit(flow, x, steps=200)
print(f"mean action after training: {loss:.4f} nats")
out = sys.argv[1] if len(sys.argv) > 1 else "model.flow.json"
export(flow, out, out.replace(".flow.json", "") + ".safetensors")
