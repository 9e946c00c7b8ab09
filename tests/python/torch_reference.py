#!/usr/bin/python3
"""Test helper: trains the example flow briefly, exports it to OUTDIR/model.flow.json, and writes
OUTDIR/reference.json with PyTorch's own action S(x) = -ln p(x) and its gradient (autograd) at
random points, computed in float64 from the exported float32 weights. Exit 77 without torch.

The flow has every layer type: an ActNorm layer (initialised from the data, as Glow does) after
the first affine layer, an activation, a coupling and a final affine layer."""
import json
import os
import sys

try:
    import numpy  # noqa: F401
    import torch
except ImportError:
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "pytorch"))
from flowaction_torch import ActNorm, Activation, Affine, Coupling, Flow, export, fit  # noqa: E402

out = sys.argv[1]
torch.manual_seed(1)
d = 3
x = torch.randn(500, d)
flow = Flow([Affine(d), ActNorm(d), Activation(d), Coupling([0, 1, 0], hidden=4), Affine(d)])
flow.initialize_actnorm(x)
fit(flow, x, steps=20)
export(flow, os.path.join(out, "model.flow.json"), "model.safetensors")
flow = flow.double()  # the float32 weights, exactly, evaluated in float64
points = 0.5 * torch.randn(5, d, dtype=torch.float64)
points.requires_grad_(True)
s = flow.action(points)
grad = torch.autograd.grad(s.sum(), points)[0]
json.dump({"points": points.detach().tolist(), "action": s.detach().tolist(), "gradient": grad.tolist()},
          open(os.path.join(out, "reference.json"), "w"))
