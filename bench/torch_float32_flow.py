#!/usr/bin/env python3
"""Trains a small flow in PyTorch's default float32 (affine, activation, affine, activation,
coupling, affine; d = 4) on skewed correlated toy data and exports it with the example exporter:
the weights are float32, so as exact rationals their denominators are powers of two up to 2^149 —
the hard case for the exact field.

usage: torch_float32_flow.py OUT.flow.json   (OUT.safetensors is written beside it)
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "pytorch"))
from flowaction_torch import Activation, Affine, Coupling, Flow, export, fit  # noqa: E402

torch.manual_seed(0)
d = 4
mix = torch.tensor([[1.0, 0.3, 0.0, 0.1], [0.0, 0.8, 0.2, 0.0], [0.0, 0.0, 0.5, 0.2], [0.0, 0.0, 0.0, 0.7]])
x = torch.randn(4000, d) @ mix
x = x + 0.1 * x**2
flow = Flow([Affine(d), Activation(d), Affine(d), Activation(d), Coupling([0, 0, 1, 1], hidden=4), Affine(d)])
loss = fit(flow, x, steps=300, lr=3e-3)
assert all(p.dtype == torch.float32 for p in flow.parameters())
out = sys.argv[1]
export(flow, out, os.path.basename(out).replace(".flow.json", "") + ".safetensors")
print(f"trained in float32: mean action {loss:.4f} nats on the training data; written {out}")
