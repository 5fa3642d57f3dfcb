"""Slow, by-the-definition references that several test modules share."""
import numpy as np
import torch


def adjacency_loops(graph):
    """gen_adj by the definition: (A D)^T D, D = diag(row sums ^ -1/2)."""
    n = len(graph)
    d = [sum(graph[i][k] for k in range(n))**-0.5 for i in range(n)]
    ad = [[graph[i][j] * d[j] for j in range(n)] for i in range(n)]
    return np.array([[ad[j][i] * d[j] for j in range(n)] for i in range(n)])


def gcn_loops(x, adjacency, weights, slope):
    """Each node sums its neighbours' transformed features, layer by layer.
    """
    x = np.asarray(x, np.float64)
    for layer, w in enumerate(weights):
        support = [[sum(x[k][a] * w[a][b] for a in range(len(w)))
                    for b in range(len(w[0]))] for k in range(len(x))]
        x = np.array([[sum(adjacency[i][k] * support[k][b]
                           for k in range(len(x)))
                       for b in range(len(w[0]))] for i in range(len(x))])
        if layer < len(weights) - 1:
            x = np.where(x > 0, x, slope * x)
    return x


def plain_fused_loss(scale_logits, target, freq, beta):
    """Eq. 11 then eq. 12 as written, in float64, per element (B, N).

    ``1 - p`` is taken as the mean of ``sigmoid(-l)`` (equal in exact
    arithmetic) so that the float64 reference, and its gradient, stays exact
    for a branch at +30, where ``1 - sigmoid(30)`` would cancel.
    """
    logits = scale_logits.double()
    p = torch.sigmoid(logits).mean(1)
    q = torch.sigmoid(-logits).mean(1)
    y = target.double()
    # The loss stores the frequencies in float32.
    f = torch.as_tensor(freq, dtype=torch.float32).double()
    w = y * torch.exp(beta * (1 - f)) + (1 - y) * torch.exp(beta * f)
    return -w * (y * torch.log(p) + (1 - y) * torch.log(q))
