"""A tiny ONNX pair with CLIP's interface, for the clip-onnx tests: no CLIP weights exist here.

`image.onnx`: float32 [N, 3, S, S] -> [N, dim], the picture average-pooled to a 7 x 7 grid per
channel, then a fixed seeded projection. `text.onnx`: int64 [N, C] -> [N, dim], each id (modulo a
small vocabulary) looked up in a seeded table, averaged over the context, then projected. Both are
deterministic (the same seed gives the same bytes), a few hundred kB, and built with `onnx.helper`
only. They give vectors of CLIP's shapes whose meaning is random: tests on them check plumbing
(shapes, order, which encoder, normalisation), never retrieval quality.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

VOCAB = 997  # ids are folded into this many rows: CLIP's 49 408 would be a 25 MB table
WIDTH = 64
GRID = 7
OPSET = 17
IR_VERSION = 9  # what onnxruntime releases of the last two years all read


def _model(graph: onnx.GraphProto) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def image_model(
    dim: int = 512, size: int = 224, seed: int = 0, input_name: str = "pixel_values"
) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    pool = size // GRID
    weight = rng.standard_normal((3 * GRID * GRID, dim)).astype(np.float32)
    nodes = [
        helper.make_node("AveragePool", [input_name], ["pooled"], kernel_shape=[pool, pool],
                         strides=[pool, pool]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "weight"], ["image_embeds"]),
    ]  # fmt: skip
    graph = helper.make_graph(
        nodes,
        "tiny_clip_image",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", 3, size, size])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["N", dim])],
        initializer=[numpy_helper.from_array(weight, "weight")],
    )
    return _model(graph)


def text_model(
    dim: int = 512,
    context: int = 77,
    seed: int = 1,
    input_name: str = "input_ids",
    id_type: int = TensorProto.INT64,
) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    table = rng.standard_normal((VOCAB, WIDTH)).astype(np.float32)
    table[0] = 0.0  # CLIP's padding id: then the text's own tokens set the direction
    weight = rng.standard_normal((WIDTH, dim)).astype(np.float32)
    id_dtype = np.int64 if id_type == TensorProto.INT64 else np.int32
    nodes = [
        helper.make_node("Mod", [input_name, "vocab"], ["folded"]),
        helper.make_node("Gather", ["table", "folded"], ["tokens"], axis=0),
        helper.make_node("ReduceMean", ["tokens"], ["mean"], axes=[1], keepdims=0),
        helper.make_node("MatMul", ["mean", "weight"], ["text_embeds"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_clip_text",
        [helper.make_tensor_value_info(input_name, id_type, ["N", context])],
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["N", dim])],
        initializer=[
            numpy_helper.from_array(np.array(VOCAB, dtype=id_dtype), "vocab"),
            numpy_helper.from_array(table, "table"),
            numpy_helper.from_array(weight, "weight"),
        ],
    )
    return _model(graph)


def write_pair(
    folder: Path,
    *,
    image: onnx.ModelProto | None = None,
    text: onnx.ModelProto | None = None,
) -> Path:
    """`folder` with image.onnx and text.onnx (CLIP ViT-B-32's shapes unless given others)."""
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(image if image is not None else image_model(), str(folder / "image.onnx"))
    onnx.save(text if text is not None else text_model(), str(folder / "text.onnx"))
    return folder
