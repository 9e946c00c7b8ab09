#!/usr/bin/python3
"""Trains a small flow (affine, activation, coupling, affine) on correlated toy data by maximum
likelihood and exports it: python3 train.py OUT.flow.json, then flowaction extract OUT.flow.json."""
import sys

import torch

from flowaction_torch import Activation, Affine, Coupling, Flow, export

torch.manual_seed(0)
d = 3
x = torch.randn(2000, d) @ torch.tensor([[1.0, 0.3, 0.0], [0.0, 0.8, 0.2], [0.0, 0.0, 0.5]])
flow = Flow([Affine(d), Activation(d), Coupling([0, 0, 1], hidden=4), Affine(d)])
opt = torch.optim.Adam(flow.parameters(), lr=1e-2)
for step in range(200):
    loss = flow.action(x).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
print(f"mean action after training: {loss.item():.4f} nats")
out = sys.argv[1] if len(sys.argv) > 1 else "model.flow.json"
export(flow, out, out.replace(".flow.json", "") + ".safetensors")
