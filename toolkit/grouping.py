"""Grouping a search's records into moments: one media item's records that overlap in time or
lie within `gap_sec` of each other are one hit.

A moment is usually found several times: by its transcript chunk, by the audio segment that
holds the same words and by the keyframe of the shot on screen, each with its own, slightly
different span. Listed one by one they fill the first page with one moment; grouped, the page
shows k different moments, each with the modalities that found it.

Records are joined by a sweep over start times, so a chain of close records is one group even
when its ends are further apart than the gap. The group's score is its best record's, which
only means something when the records' scores are comparable across modalities
(`vtembed.ranking.fuse` makes them so). Pure functions, so they test without a store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GROUP_GAP_SEC = 3.0
"""Records this close are one moment: about a spoken sentence, shorter than a 10 s segment, so
neighbouring segments of one long passage can still chain while distinct moments stay apart."""


@dataclass(frozen=True)
class Group:
    """One media item's records of one moment, best first."""

    records: tuple[Mapping[str, Any], ...]

    @property
    def best(self) -> Mapping[str, Any]:
        return self.records[0]

    @property
    def score(self) -> float:
        return float(self.best["score"])

    @property
    def media_id(self) -> str:
        return media_id(self.best)

    @property
    def start_sec(self) -> float:
        return min(float(r["start_sec"]) for r in self.records)

    @property
    def end_sec(self) -> float:
        return max(float(r["end_sec"]) for r in self.records)

    @property
    def modalities(self) -> tuple[str, ...]:
        """Each modality once, in the order of its best record (the best match first)."""
        return tuple(dict.fromkeys(str(r["modality"]) for r in self.records))


def media_id(record: Mapping[str, Any]) -> str:
    return str((record.get("media") or {}).get("id", ""))


def group_records(
    records: Sequence[Mapping[str, Any]], gap_sec: float = GROUP_GAP_SEC
) -> list[Group]:
    """The records (best first, as `fuse` gives them) as groups, best group first: a group's
    place is its best record's, and inside a group the records keep their order."""
    if gap_sec < 0:
        raise ValueError(f"gap_sec must not be negative, not {gap_sec}")
    place = {id(record): i for i, record in enumerate(records)}
    by_media: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        by_media.setdefault(media_id(record), []).append(record)
    groups: list[Group] = []
    for held in by_media.values():
        held.sort(key=lambda r: (float(r["start_sec"]), float(r["end_sec"])))
        current: list[Mapping[str, Any]] = []
        reach = float("-inf")
        for record in held:
            if current and float(record["start_sec"]) > reach + gap_sec:
                groups.append(_group(current, place))
                current = []
            end = float(record["end_sec"])
            reach = max(reach, end) if current else end
            current.append(record)
        if current:
            groups.append(_group(current, place))
    groups.sort(key=lambda g: place[id(g.best)])
    return groups


def _group(records: list[Mapping[str, Any]], place: dict[int, int]) -> Group:
    return Group(tuple(sorted(records, key=lambda r: place[id(r)])))
