"""The paper's networks: music encoder, image encoder, conditional DCGAN."""

from .gan import CategoryPulledGenerator, Discriminator, Generator, TruncatedGenerator
from .image_encoder import ImageEncoder
from .music_encoder import MusicEncoder

__all__ = [
    "CategoryPulledGenerator",
    "Discriminator",
    "Generator",
    "ImageEncoder",
    "MusicEncoder",
    "TruncatedGenerator",
]
