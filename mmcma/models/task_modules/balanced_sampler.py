"""Draw the patches the patch losses use: a balanced random sample.

Written here because torchvision keeps its balanced sampler in the private
``torchvision.models.detection._utils``.
"""
import torch
from mmpretrain.registry import TASK_UTILS
from torch import Tensor


@TASK_UTILS.register_module()
class BalancedRandomSampler:
    """At most ``num * pos_fraction`` object patches, then background
    patches up to ``num``, each drawn uniformly at random; ignored patches
    are never drawn.

    The draw is two ``torch.randperm`` calls (objects, then background), so
    it follows the global seed.

    Args:
        num (int): Patches per image.
        pos_fraction (float): Largest share of object patches, in [0, 1].
    """

    def __init__(self, num: int = 512, pos_fraction: float = 0.25):
        if num < 1 or not 0 <= pos_fraction <= 1:
            raise ValueError('need num >= 1 and 0 <= pos_fraction <= 1, got '
                             f'num={num}, pos_fraction={pos_fraction}')
        self.num = num
        self.pos_fraction = pos_fraction

    def sample(self, objectness: Tensor) -> Tensor:
        """Bool mask (P,) of the drawn patches of one image, from targets
        (P,) in {1: object, 0: background, -1: ignored}."""
        positive = torch.nonzero(objectness >= 1).squeeze(1)
        negative = torch.nonzero(objectness == 0).squeeze(1)
        num_pos = min(positive.numel(), int(self.num * self.pos_fraction))
        num_neg = min(negative.numel(), self.num - num_pos)
        drawn = torch.cat([
            positive[torch.randperm(positive.numel(),
                                    device=positive.device)[:num_pos]],
            negative[torch.randperm(negative.numel(),
                                    device=negative.device)[:num_neg]]
        ])
        mask = torch.zeros_like(objectness, dtype=torch.bool)
        mask[drawn] = True
        return mask
