"""The flowaction/1 layers (DESIGN §3: affine, activation, coupling) and ActNorm in PyTorch, listed
data -> latent, and an exporter that writes a manifest plus a .safetensors file with NumPy only
(no extra packages).

    S(x) = -ln p(x) = 1/2 |f(x)|^2 + (d/2) ln 2 pi - ln|det df/dx|
"""
import json
import math
import struct

import numpy as np
import torch


class Affine(torch.nn.Module):
    """z = W y + b (row of W = output unit)."""

    def __init__(self, d):
        super().__init__()
        self.dim = d
        self.W = torch.nn.Parameter(torch.eye(d) + 0.1 * torch.randn(d, d))
        self.b = torch.nn.Parameter(0.1 * torch.randn(d))

    def forward(self, y):
        return y @ self.W.T + self.b, torch.linalg.slogdet(self.W)[1].expand(y.shape[0])

    def export(self):
        return {"type": "affine", "W": self.W, "b": self.b}


class Activation(torch.nn.Module):
    """z_i = y_i + alpha_i y_i^2, invertible where 1 + 2 alpha_i y_i > 0."""

    def __init__(self, d):
        super().__init__()
        self.dim = d
        self.alpha = torch.nn.Parameter(0.05 * torch.randn(d))

    def forward(self, y):
        return y + self.alpha * y**2, torch.log(1 + 2 * self.alpha * y).sum(dim=1)

    def export(self):
        return {"type": "activation", "alpha": self.alpha}


class ActNorm(torch.nn.Module):
    """ActNorm (Glow): z_i = s_i y_i + t_i with s = exp(log_scale) > 0; -ln|det| = -sum_i log_scale_i.
    Starts as the identity; initialize(y) sets it from data (as Glow does on the first batch)."""

    def __init__(self, d):
        super().__init__()
        self.dim = d
        self.log_scale = torch.nn.Parameter(torch.zeros(d))
        self.shift = torch.nn.Parameter(torch.zeros(d))

    def forward(self, y):
        return y * torch.exp(self.log_scale) + self.shift, self.log_scale.sum().expand(y.shape[0])

    @torch.no_grad()
    def initialize(self, y):
        """s = 1/std, t = -mean/std per unit (std divided by n), so that the output on the samples y
        has zero mean and unit variance."""
        mean = y.mean(dim=0)
        std = ((y - mean) ** 2).mean(dim=0).sqrt()
        if not bool((std > 0).all()):
            raise ValueError(f"ActNorm.initialize: units {(std == 0).nonzero().flatten().tolist()} are constant")
        self.log_scale.copy_(-torch.log(std))
        self.shift.copy_(-mean / std)

    def export(self):
        # exp of the float32 log-scale evaluated (and written) in float64: rounding s to float32
        # would move the exported model 1e-7 away from the one evaluated in float64.
        return {"type": "actnorm", "scale": torch.exp(self.log_scale.double()), "shift": self.shift}


class Coupling(torch.nn.Module):
    """Additive coupling: z_A = y_A, z_B = y_B + W2 phi(W1 y_A + b1) + b2 (A: mask 0, B: mask 1),
    phi(u) = u + alpha u^2 per hidden unit; volume preserving."""

    def __init__(self, mask, hidden):
        super().__init__()
        self.mask = list(mask)
        self.dim = len(mask)
        self.A = [i for i, m in enumerate(mask) if m == 0]
        self.B = [i for i, m in enumerate(mask) if m == 1]
        self.W1 = torch.nn.Parameter(0.3 * torch.randn(hidden, len(self.A)))
        self.b1 = torch.nn.Parameter(0.1 * torch.randn(hidden))
        self.alpha = torch.nn.Parameter(0.1 * torch.randn(hidden))
        self.W2 = torch.nn.Parameter(0.3 * torch.randn(len(self.B), hidden))
        self.b2 = torch.nn.Parameter(0.1 * torch.randn(len(self.B)))

    def forward(self, y):
        u = y[:, self.A] @ self.W1.T + self.b1
        z = y.clone()
        z[:, self.B] = y[:, self.B] + (u + self.alpha * u**2) @ self.W2.T + self.b2
        return z, torch.zeros(y.shape[0], dtype=y.dtype)

    def export(self):
        return {"type": "coupling", "mask": self.mask, "W1": self.W1, "b1": self.b1, "alpha": self.alpha,
                "W2": self.W2, "b2": self.b2}


class Flow(torch.nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = torch.nn.ModuleList(layers)

    @torch.no_grad()
    def initialize_actnorm(self, x):
        """Data-dependent initialisation (Glow): passes x through the layers in order and
        initialises each ActNorm layer from its input, so that every one starts normalised."""
        for layer in self.layers:
            if isinstance(layer, ActNorm):
                layer.initialize(x)
            x, _ = layer(x)

    def action(self, x):
        """S(x) = -ln p(x) per sample."""
        logdet = torch.zeros(x.shape[0], dtype=x.dtype)
        for layer in self.layers:
            x, ld = layer(x)
            logdet = logdet + ld
        d = x.shape[1]
        return 0.5 * (x**2).sum(dim=1) + 0.5 * d * math.log(2 * math.pi) - logdet


def fit(flow, x, steps, lr=1e-2):
    """Maximum likelihood with Adam: minimise the mean of S(x); returns the last loss."""
    opt = torch.optim.Adam(flow.parameters(), lr=lr)
    for _ in range(steps):
        loss = flow.action(x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


def write_safetensors(path, arrays):
    """arrays: name -> NumPy array (float64/float32/float16), written little-endian."""
    codes = {np.dtype("float64"): "F64", np.dtype("float32"): "F32", np.dtype("float16"): "F16"}
    header, blobs, offset = {}, [], 0
    for name, a in arrays.items():
        raw = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": codes[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def export(flow, manifest_path, tensors_name):
    """Writes MANIFEST (flowaction/1) naming every tensor in TENSORS_NAME (beside it)."""
    import os
    arrays, layers = {}, []
    for n, layer in enumerate(flow.layers, start=1):
        entry = {}
        for key, value in layer.export().items():
            if isinstance(value, torch.Tensor):
                name = f"layer{n}.{key}"
                arrays[name] = value.detach().cpu().numpy()
                entry[key] = name
            else:
                entry[key] = value
        layers.append(entry)
    dim = flow.layers[0].dim
    write_safetensors(os.path.join(os.path.dirname(manifest_path) or ".", tensors_name), arrays)
    with open(manifest_path, "w") as f:
        json.dump({"format": "flowaction/1", "dim": dim, "tensors": tensors_name, "layers": layers}, f, indent=1)
