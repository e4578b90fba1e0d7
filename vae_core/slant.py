"""A digit's slant and the horizontal shear that takes it out or puts it back (MNIST's classic deskewing).

The slant of an image is alpha = cov(row, column) / var(row) of its intensity-weighted pixel indices: how many
columns its ink moves to the right per row downwards. Shearing each row sideways by alpha * (row - centre) makes
that covariance zero (the digit stands upright); shearing by -alpha slants an upright image like the original.
A model with ModelConfig.deskew encodes upright digits and slants its decoded image back to the input's slant,
so its two latent dimensions need not spend one of them on slant, which every class shares.
"""
from __future__ import annotations

import torch

MAX_SLANT = 1.0  # columns per row (45 degrees): a flat stroke's huge ratio is clipped to this


def slant(x: torch.Tensor) -> torch.Tensor:
    """x: (N, side * side) intensities in [0, 1] -> alpha (N,); 0 for an image with no ink."""
    side = round(x.shape[1] ** 0.5)
    w = x.reshape(len(x), side, side).float()
    index = torch.arange(side, dtype=w.dtype, device=w.device)
    mass = w.sum((1, 2)).clamp_min(1e-6)
    rows = w.sum(2)  # (N, side): ink per row
    # elementwise sums, not matrix products: those would run in bf16 under a training step's autocast
    dr = index[None, :] - ((rows * index).sum(1) / mass)[:, None]  # (N, side): each row's offset from the mean row
    var_r = (rows * dr ** 2).sum(1) / mass
    cov = (dr * (w * index).sum(2)).sum(1) / mass  # sum w (r - mean r)(c - mean c): the column mean cancels
    alpha = cov / var_r.clamp_min(1e-6)
    return torch.where(var_r > 1e-3, alpha, torch.zeros_like(alpha)).clamp(-MAX_SLANT, MAX_SLANT)


def _shifted(x: torch.Tensor, alpha: torch.Tensor, background: float = 0.0) -> torch.Tensor:
    """x (N, side, side): out(r, c) = x(r, c + alpha * (r - centre)), linear between the two nearest columns,
    background past the edges."""
    side = x.shape[-1]
    rows = torch.arange(side, dtype=x.dtype, device=x.device) - (side - 1) / 2
    shift = alpha.to(x.dtype)[:, None] * rows[None, :]  # (N, side): how far right each row reads from
    whole = shift.floor()
    frac = (shift - whole)[:, :, None]
    pad = int(MAX_SLANT * (side - 1) / 2) + 2  # every read lands inside the row padded this much on each side
    padded = torch.nn.functional.pad(x, (pad, pad), value=background)
    # one gather of side + 1 columns from each row, starting where the row's shift says; then the two neighbours
    index = torch.arange(side + 1, device=x.device)[None, None, :] + (whole.long() + pad)[:, :, None]
    window = padded.gather(2, index)
    return torch.lerp(window[..., :-1], window[..., 1:], frac)


class _Shear(torch.autograd.Function):
    """The shear as a linear map whose adjoint is the opposite shear: reading at c + s between two columns, written
    back, is reading at c - s between the same two. The backward pass is one more shear, not a scatter."""

    @staticmethod
    def forward(ctx, x, alpha, background):
        ctx.save_for_backward(alpha)
        return _shifted(x, alpha, background)

    @staticmethod
    def backward(ctx, grad):
        (alpha,) = ctx.saved_tensors
        return _shifted(grad, -alpha), None, None


def shear(images: torch.Tensor, alpha: torch.Tensor, background: float = 0.0) -> torch.Tensor:
    """images (N, side * side), each row r moved sideways: out(r, c) = in(r, c + alpha * (r - centre)), linear
    between the two nearest columns, centre = (side - 1) / 2; what comes in past an edge is `background`.

    shear(x, slant(x)) is the deskewed digit; shear(upright, -alpha) slants it. The same as `F.grid_sample` with the
    shear's `affine_grid` (bilinear, align_corners=False), but a row's shift is one number, so one gather along the
    row does it, forward and backward (docs/performance.md)."""
    n, side = len(images), round(images.shape[1] ** 0.5)
    return _Shear.apply(images.reshape(n, side, side), alpha, float(background)).reshape(n, -1)
