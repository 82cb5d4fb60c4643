"""The learn side: collect labelled samples, embed them with a base model's
trunk, train a small head in numpy, write one new model file (trunk + head).

    edgeinfer.personalize("base.onnx", "data/", "personal.onnx", head="softmax")
    Embedder("base.onnx").embed(frames)      # (N, D) embeddings for your own heads
"""
from .embed import Embedder
from .heads import HEADS, KnnHead, NcmHead, SoftmaxHead
from .personalize import personalize

__all__ = ["Embedder", "HEADS", "KnnHead", "NcmHead", "SoftmaxHead", "personalize"]
