"""vtembed: time-aligned multimodal embeddings for video and audio archives."""

from vtembed.hookspecs import hookimpl

__all__ = ["hookimpl"]
__version__ = "0.1.0"
