"""The spatial-context-aware classifier: any backbone, an FPN, the head."""
from typing import List, Optional, Sequence, Tuple

from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ..capabilities import ExportRefusal, ShowsPatches
from ..utils.patch_types import ImagePyramid, PatchPredictions


def image_sizes(data_samples: Optional[Sequence[DataSample]],
                batch_shape: Tuple[int, int],
                num_images: int) -> List[Tuple[int, int]]:
    """``(h, w)`` of each image inside the padded batch.

    A sample's ``img_shape`` (set by the pipeline; the data preprocessor
    pads at the bottom and right) when it has one, else the batch shape.
    """
    sizes = []
    for i in range(num_images):
        shape = None
        if data_samples is not None:
            shape = data_samples[i].metainfo.get('img_shape')
        if shape is None:
            sizes.append(tuple(batch_shape))
        else:
            sizes.append((min(int(shape[0]), batch_shape[0]),
                          min(int(shape[1]), batch_shape[1])))
    return sizes


@MODELS.register_module()
class SpatialContextClassifier(ImageClassifier, ShowsPatches,
                               ExportRefusal):
    """An :class:`ImageClassifier` whose head sees the input geometry.

    ``backbone`` (any registered backbone with several ``out_indices``) and
    ``neck`` (:class:`FeaturePyramidNeck`) are built and run as in
    mmpretrain; the neck's levels then travel with the batch shape and each
    image's size as an :class:`ImagePyramid` to the head
    (:class:`SpatialContextHead`), which places and clips boxes with them.
    Losses, predictions (``pred_score`` like mmpretrain's multi-label
    heads) and the data preprocessor are the image classifier's.
    """

    #: Why :func:`mmcma.apis.export_onnx` refuses this model.
    onnx_refusal = (
        'the number of patches per image (proposals after NMS, boxes '
        'clipped and split per image in Python) is data-dependent, and '
        'tracing would freeze it to the example batch; run the model in '
        'PyTorch (tools/test.py, tools/infer.py)')

    def __init__(self, backbone: dict, neck: dict, head: dict, **kwargs):
        super().__init__(backbone=backbone, neck=neck, head=head, **kwargs)

    def extract_pyramid(
            self,
            inputs: Tensor,
            data_samples: Optional[List[DataSample]] = None) -> ImagePyramid:
        """Backbone and neck outputs with the input geometry."""
        maps = self.extract_feat(inputs, stage='neck')
        batch_shape = (int(inputs.shape[-2]), int(inputs.shape[-1]))
        return ImagePyramid(
            tuple(maps), batch_shape,
            image_sizes(data_samples, batch_shape, inputs.shape[0]))

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        """``mode='tensor'`` returns the image-level probabilities (B, N);
        ``'loss'`` and ``'predict'`` are the image classifier's."""
        if mode == 'tensor':
            return self.head(self.extract_pyramid(inputs, data_samples))
        return super().forward(inputs, data_samples, mode)

    def loss(self, inputs: Tensor, data_samples: List[DataSample]) -> dict:
        return self.head.loss(
            self.extract_pyramid(inputs, data_samples), data_samples)

    def predict(self,
                inputs: Tensor,
                data_samples: Optional[List[DataSample]] = None,
                **kwargs) -> List[DataSample]:
        return self.head.predict(
            self.extract_pyramid(inputs, data_samples), data_samples,
            **kwargs)

    def predict_patches(
            self,
            inputs: Tensor,
            data_samples: Optional[List[DataSample]] = None
    ) -> List[PatchPredictions]:
        """Each image's test-time patches, regressed boxes, context patches
        and scores (:func:`mmcma.models.roi_heads.top_patches` picks
        the ones to draw)."""
        return self.head.predict_patches(
            self.extract_pyramid(inputs, data_samples))
