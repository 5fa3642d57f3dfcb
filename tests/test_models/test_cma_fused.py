"""chunked_cosine_logits (CMA's eq. 7-10 in one chunked autograd node) against
eq. 7-10 as written: the same logits and gradients for every chunk size,
with a mask, an image without valid positions and a label without
attention; and float64 gradcheck of its hand-written backward."""
import pytest
import torch

from mmcma.models.heads.cma_fused import chunked_cosine_logits
from mmcma.models.heads.cma_head import (attended_logits, class_wise_logits,
                                         class_wise_pooling,
                                         normalize_attention)
from mmcma.models.heads.cma_scores import cosine_attention_scores

B, D, C, M, N = 3, 4, 5, 7, 10


def _inputs(dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    projected = torch.randn(B, D, M, generator=g, dtype=dtype)
    # Label 0's cosines are <= 0 at every position of image 0: no attention.
    projected[0, 0] = projected[0, 0].abs() + 0.5
    projected[0, 1:] = 0
    embeddings = torch.randn(N, D, generator=g, dtype=dtype)
    embeddings[0] = torch.tensor([-1.0, 0.3, -0.2, 0.1], dtype=dtype)
    visual = torch.randn(B, C, M, generator=g, dtype=dtype)
    weight = torch.randn(N, C, generator=g, dtype=dtype)
    bias = torch.randn(N, generator=g, dtype=dtype)
    mask = torch.rand(B, M, generator=g) > 0.3
    mask[1] = False  # an image with no valid position
    mask[2] = True
    return [t.requires_grad_() for t in (projected, embeddings, visual,
                                         weight, bias)], mask


def _as_written(projected, embeddings, visual, weight, bias, mask):
    attention = normalize_attention(
        cosine_attention_scores(projected, embeddings), mask)
    return class_wise_logits(class_wise_pooling(attention, visual), weight,
                             bias)


@pytest.mark.parametrize('use_mask', [False, True])
@pytest.mark.parametrize('chunk', [1, 3, N, 4 * N])
def test_equals_eq7_to_10_as_written(chunk, use_mask):
    inputs, mask = _inputs()
    mask = mask if use_mask else None
    outputs, grads = [], []
    for fn in (_as_written, lambda *a: chunked_cosine_logits(
            *a, chunk=chunk)):
        out = fn(*inputs, mask)
        # A weight per logit, so a mix-up of labels or images shows.
        outputs.append(out)
        grads.append(torch.autograd.grad(
            (out * torch.linspace(-2, 1, B * N).view(B, N)).sum(), inputs))
    written, chunked = outputs
    torch.testing.assert_close(chunked, written, rtol=1e-12, atol=1e-12)
    for a, b in zip(grads[1], grads[0]):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    # The label without attention (and, masked, the image without
    # positions) gets its bias, and no gradient reaches its scores.
    assert chunked[0, 0] == inputs[4][0]
    if use_mask:
        torch.testing.assert_close(chunked[1], inputs[4].detach())


def test_equals_attended_logits_in_float32_for_each_chunk():
    inputs, mask = _inputs(torch.float32, seed=1)
    attention = normalize_attention(
        cosine_attention_scores(*inputs[:2]), mask)
    reference = attended_logits(attention, *inputs[2:])
    for chunk in (2, 7, N):
        torch.testing.assert_close(
            chunked_cosine_logits(*inputs, mask=mask, chunk=chunk),
            reference, rtol=1e-5, atol=1e-6)


def test_gradcheck():
    inputs, mask = _inputs(seed=2)
    assert torch.autograd.gradcheck(
        lambda *a: chunked_cosine_logits(*a, mask=mask, chunk=4), inputs)


def test_only_the_needed_gradients():
    """Buffers (the label embeddings) get none; the others do."""
    (projected, embeddings, visual, weight, bias), _ = _inputs()
    embeddings = embeddings.detach()
    out = chunked_cosine_logits(projected, embeddings, visual, weight, bias)
    out.sum().backward()
    assert embeddings.grad is None
    assert all(t.grad is not None and t.grad.shape == t.shape
               for t in (projected, visual, weight, bias))


def test_refuses_a_chunk_below_one():
    inputs, _ = _inputs()
    with pytest.raises(ValueError, match='chunk'):
        chunked_cosine_logits(*inputs, chunk=0)
