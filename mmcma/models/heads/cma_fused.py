"""CMA's eq. 7-10 for large label sets: one autograd node, chunked over labels.

With thousands of labels, the autograd graph of eq. 7-10 as written keeps and
revisits many (B, N, M) tensors: the cosines, their ReLU, the normalised
attention, the per-position logits ``w_k^T I^i`` and their product, each with
its own backward pass (the profile at N = 9,605 in
``docs/benchmarks_scale.md`` spent about as long on these passes as on the
products). :func:`chunked_cosine_logits` computes the same logits with one
hand-written backward (autograd cannot fuse element-wise passes on the CPU):
per chunk of labels, two products over all B x M positions at once (one GEMM
each), the element-wise work on the chunk alone, and only the ReLU scores and
the per-position logits of the chunk kept for the backward.

Only ``score='relu'`` (the paper's eq. 7) is fused; the other scores keep the
path as written (:class:`~mmcma.models.heads.CMABranch`).
"""
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

#: Labels per chunk: the chunk's (B M, chunk) scores and logits are what the
#: element-wise passes touch at once.
DEFAULT_CHUNK = 512


def _bounds(num: int, chunk: int) -> List[Tuple[int, int]]:
    return [(start, min(start + chunk, num)) for start in range(0, num, chunk)]


def _rows(x: Tensor) -> Tensor:
    """(B, K, M) -> (B M, K): one row per position of every image."""
    return x.transpose(1, 2).reshape(-1, x.size(1))


class _ChunkedCosineLogits(torch.autograd.Function):
    """Eq. 7-10 with ReLU cosine scores; see :func:`chunked_cosine_logits`.
    """

    @staticmethod
    def forward(ctx, projected: Tensor, embeddings: Tensor, visual: Tensor,
                weight: Tensor, bias: Tensor, mask: Optional[Tensor],
                chunk: int) -> Tensor:
        batch, _, positions = visual.shape
        rows_p, rows_v = _rows(projected), _rows(visual)
        valid = None if mask is None else mask.reshape(batch, positions, 1)
        totals, ratios, saved = [], [], []
        for start, stop in _bounds(weight.size(0), chunk):
            # z (eq. 7) and w_k^T I^i: (B, M, n), labels innermost.
            scores = torch.mm(rows_p, embeddings[start:stop].t()).relu_()
            scores = scores.view(batch, positions, -1)
            if valid is not None:
                scores.masked_fill_(~valid, 0)
            values = torch.mm(rows_v, weight[start:stop].t()).view(
                batch, positions, -1)
            total = scores.sum(1)
            # Eq. 8's guard: a row without attention divides by 1 (its
            # scores are all 0, so its logit is the bias).
            total = torch.where(total > 0, total, torch.ones_like(total))
            totals.append(total)
            ratios.append((scores * values).sum(1) / total)
            saved += [scores, values]
        total, ratio = torch.cat(totals, 1), torch.cat(ratios, 1)
        ctx.chunk = chunk
        ctx.shapes = (projected.shape, visual.shape)
        ctx.save_for_backward(rows_p, embeddings, rows_v, weight, total,
                              ratio, *saved)
        return ratio + bias

    @staticmethod
    def backward(ctx, grad: Tensor):
        rows_p, embeddings, rows_v, weight, total, ratio, *saved = \
            ctx.saved_tensors
        need_p, need_e, need_v, need_w, need_b = ctx.needs_input_grad[:5]
        scaled = grad / total  # dlogit / d(sum_i z_i v_i), (B, N)
        grad_p = torch.zeros_like(rows_p) if need_p else None
        grad_v = torch.zeros_like(rows_v) if need_v else None
        grad_e = torch.empty_like(embeddings) if need_e else None
        grad_w = torch.empty_like(weight) if need_w else None
        bounds = _bounds(weight.size(0), ctx.chunk)
        for (start, stop), scores, values in zip(bounds, saved[0::2],
                                                 saved[1::2]):
            g = scaled[:, None, start:stop]
            if need_v or need_w:
                # d/dv_i = a_i = z_i / total.
                grad_values = (scores * g).flatten(0, 1)
                if need_w:
                    torch.mm(grad_values.t(), rows_v, out=grad_w[start:stop])
                if need_v:
                    grad_v.addmm_(grad_values, weight[start:stop])
            if need_p or need_e:
                # d/dz_i = (v_i - ratio) / total; the ReLU and the mask pass
                # it where z_i > 0 only.
                grad_scores = (values - ratio[:, None, start:stop]) * g
                grad_scores = grad_scores.masked_fill_(scores <= 0,
                                                       0).flatten(0, 1)
                if need_p:
                    grad_p.addmm_(grad_scores, embeddings[start:stop])
                if need_e:
                    torch.mm(grad_scores.t(), rows_p,
                             out=grad_e[start:stop])
        projected_shape, visual_shape = ctx.shapes

        def unrows(rows, shape):
            return None if rows is None else rows.view(
                shape[0], shape[2], shape[1]).transpose(1, 2)

        return (unrows(grad_p, projected_shape), grad_e,
                unrows(grad_v, visual_shape), grad_w,
                grad.sum(0) if need_b else None, None, None)


def chunked_cosine_logits(projected: Tensor,
                          embeddings: Tensor,
                          visual: Tensor,
                          weight: Tensor,
                          bias: Tensor,
                          mask: Optional[Tensor] = None,
                          chunk: int = DEFAULT_CHUNK,
                          eps: float = 1e-8) -> Tensor:
    """CMA logits ``w_k^T (sum_i a_k^i I^i) + b_k`` with eq. 7's ReLU scores.

    The same logits and gradients (up to float rounding) as
    ``attended_logits(normalize_attention(cosine_attention_scores(
    projected, embeddings), mask), visual, weight, bias)``, computed over
    ``chunk`` labels at a time and keeping two (B, M, N) tensors for the
    backward.

    Args:
        projected (Tensor): I_s, (B, D, M).
        embeddings (Tensor): Label embeddings E, (N, D).
        visual (Tensor): I, (B, C, M).
        weight (Tensor): Classifiers w, (N, C).
        bias (Tensor): Biases b, (N,).
        mask (Tensor, optional): Valid positions, bool (B, M).
        chunk (int): Labels per chunk (>= 1); the result does not depend
            on it beyond float rounding.
        eps (float): Norm floor of the cosine (zero vectors: cosine 0).

    Returns:
        Tensor: Logits (B, N).
    """
    if chunk < 1:
        raise ValueError(f'chunk must be >= 1, got {chunk}')
    if mask is not None:
        mask = mask.bool()
    return _ChunkedCosineLogits.apply(F.normalize(projected, dim=1, eps=eps),
                                      F.normalize(embeddings, dim=1, eps=eps),
                                      visual, weight, bias, mask, int(chunk))
