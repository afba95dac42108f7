"""Export an OpenCLIP (or OpenAI) CLIP to the folder `vtembed --embedder clip-onnx` reads.

Run it once, on a machine with internet access and PyTorch (it downloads the weights), not in
vtembed's environment: vtembed itself needs neither torch nor open_clip, only the two files.

    pip install torch open_clip_torch onnx onnxruntime
    python examples/export_clip_onnx.py --out ~/models/clip-vit-b-32

writes `image.onnx` (float32 pixel_values [N, 3, 224, 224] -> image_embeds [N, 512]) and
`text.onnx` (int64 input_ids [N, 77] -> text_embeds [N, 512]), batch axis dynamic, then checks
both against PyTorch with onnxruntime. The vectors are the model's own projections, not yet
normalised (vtembed normalises them). vtembed's maintainers could not run this script where it
is kept (no access to model hubs); the docs (docs/clip.md) say so too.
"""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
import open_clip
import torch

OPSET = 17


class ImageEncoder(torch.nn.Module):
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(pixel_values)


class TextEncoder(torch.nn.Module):
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model.encode_text(input_ids)


def export(
    module: torch.nn.Module, example: torch.Tensor, path: Path, names: tuple[str, str]
) -> None:
    """One encoder to ONNX with a dynamic batch axis (the TorchScript exporter: its
    `dynamic_axes` are what vtembed's loader expects, in every torch release that has it)."""
    options: dict[str, Any] = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        options["dynamo"] = False  # newer torch defaults to the dynamo exporter
    source, target = names
    torch.onnx.export(
        module,
        (example,),
        str(path),
        input_names=[source],
        output_names=[target],
        dynamic_axes={source: {0: "batch"}, target: {0: "batch"}},
        opset_version=OPSET,
        **options,
    )


def check(path: Path, example: torch.Tensor, expected: torch.Tensor) -> float:
    """The lowest cosine between onnxruntime's vectors and PyTorch's for the same input."""
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: example.numpy()})
    want = expected.detach().numpy()
    cosine = (got * want).sum(1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
    return float(cosine.min())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ViT-B-32", help="OpenCLIP architecture name")
    parser.add_argument("--pretrained", default="openai", help="OpenCLIP weights tag")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the pair to")
    args = parser.parse_args()

    model, _, _ = open_clip.create_model_and_transforms(args.model, pretrained=args.pretrained)
    model.eval()
    tokenizer = open_clip.get_tokenizer(args.model)
    size = model.visual.image_size
    size = size[0] if isinstance(size, tuple | list) else size
    # Exported at batch 2 and checked at batch 3: a batch axis traced as 1 is sometimes folded
    # into a constant, which only a second batch size shows.
    texts = ["a photo of a cat", "a diagram of quarterly revenue", "people talking on a stage"]
    pixels = torch.randn(3, 3, size, size)
    ids = tokenizer(texts)  # int64 [3, 77]: start token, ids, end token, zeros

    args.out.mkdir(parents=True, exist_ok=True)
    image_path, text_path = args.out / "image.onnx", args.out / "text.onnx"
    with torch.no_grad():
        image, text = ImageEncoder(model), TextEncoder(model)
        export(image, pixels[:2], image_path, ("pixel_values", "image_embeds"))
        export(text, ids[:2], text_path, ("input_ids", "text_embeds"))
        image_cosine = check(image_path, pixels, image(pixels))
        text_cosine = check(text_path, ids, text(ids))
    dim = image(pixels[:1]).shape[1]
    print(f"wrote {image_path} and {text_path}: {dim} dims, {size} px, context {ids.shape[1]}")
    print(
        f"onnxruntime vs PyTorch, lowest cosine: image {image_cosine:.6f}, text {text_cosine:.6f}"
    )


if __name__ == "__main__":
    main()
