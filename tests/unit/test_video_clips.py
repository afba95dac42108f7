"""Clips for moving-picture embedders: each shot split into equal parts no longer than asked,
never across a cut; and the v2 request a clip becomes."""

from __future__ import annotations

import base64

from twelvelabs.core.pydantic_utilities import parse_obj_as
from twelvelabs.types import MultiInputRequest, VideoInputRequest

from vtembed.plugins.embedders.twelvelabs_v2 import EmbedV2
from vtembed.video_clips import clip_spans


def test_shots_are_split_into_equal_clips_within_the_limit() -> None:
    spans = clip_spans([(0.0, 25.0), (25.0, 30.0), (30.0, 30.0), (30.0, 50.0)], 10.0)
    assert spans == [
        (0.0, 8.333),
        (8.333, 16.667),
        (16.667, 25.0),
        (25.0, 30.0),  # a short shot is one clip; an empty one none
        (30.0, 40.0),
        (40.0, 50.0),  # exactly twice the limit: two clips, not three
    ]
    for start, end in spans:
        assert 0 < end - start <= 10.0


def test_a_clip_is_one_visual_embedding_request() -> None:
    body = EmbedV2().video_file("marengo3.0", b"mp4 bytes")["json"]
    assert body["input_type"] == "video" and set(body) == {"input_type", "model_name", "video"}
    video = parse_obj_as(VideoInputRequest, body["video"])
    assert base64.b64decode(video.media_source.base_64_string or "") == b"mp4 bytes"
    assert video.embedding_option == ["visual"] and video.embedding_scope == ["clip"]
    linked = EmbedV2().video_url("marengo3.0", "https://e.x/v.mp4", 8.333, 16.667)["json"]
    assert (linked["video"]["start_sec"], linked["video"]["end_sec"]) == (8.333, 16.667)
    multi = EmbedV2(multi=True).video_file("marengo3.5", b"mp4")["json"]
    sources = parse_obj_as(MultiInputRequest, multi["multi_input"]).media_sources or []
    assert [s.media_type for s in sources] == ["video"]
    answer = {"data": [{"embedding": [0.1, 0.2], "embedding_option": "visual"}]}
    assert EmbedV2().vector(answer, "video", 2) == [0.1, 0.2]
