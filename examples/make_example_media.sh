#!/usr/bin/env bash
# Generate the demo video examples/media/vtembed-demo.mp4 from nothing:
# ffmpeg's testsrc pattern as the picture, espeak-ng speech as the sound, h264 + aac.
#
# Needs: ffmpeg, espeak-ng, sox (Debian: apt-get install ffmpeg espeak-ng sox).
# Usage: bash examples/make_example_media.sh [OUTPUT.mp4]
#
# The three sentences are tests/media_factory.py's DEMO_TEXT: keep them the same.
# Timeline: 2.0 s silence, then one sentence at a time with 2.0 s between them, then
# silence to 24.0 s. Deterministic: the same tool versions give the same bytes.
# Whisper tiny.en transcribes this voice and rate word for word (WER 0).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/media/vtembed-demo.mp4}"

for tool in ffmpeg espeak-ng sox; do
    command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done

voice="en-us"
rate=150        # words per minute
rate_hz=16000   # audio sample rate
lead=2.0        # seconds before the first word
gap=2.0         # seconds between sentences
total=24.0      # length of the video in seconds
size="320x240"
fps=10

sentences=(
    "A man is walking his dog across the street."
    "A red car slows down to let the man cross."
    "Then they go to the park together."
)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

parts=("$tmp/lead.wav")
sox -D -n -r "$rate_hz" -c 1 -b 16 "$tmp/lead.wav" trim 0 "$lead"
sox -D -n -r "$rate_hz" -c 1 -b 16 "$tmp/gap.wav" trim 0 "$gap"
for i in "${!sentences[@]}"; do
    espeak-ng -v "$voice" -s "$rate" -w "$tmp/raw$i.wav" "${sentences[$i]}"
    # 16 kHz mono, and espeak's own leading/trailing silence cut off
    sox -D -q "$tmp/raw$i.wav" -r "$rate_hz" -c 1 -b 16 "$tmp/s$i.wav" \
        silence 1 0.01 0.1% reverse silence 1 0.01 0.1% reverse
    if ((i > 0)); then parts+=("$tmp/gap.wav"); fi
    parts+=("$tmp/s$i.wav")
done
sox -D "${parts[@]}" "$tmp/speech.wav"

mkdir -p "$(dirname "$out")"
ffmpeg -nostdin -hide_banner -loglevel error -y \
    -f lavfi -i "testsrc=size=$size:rate=$fps:duration=$total" \
    -i "$tmp/speech.wav" \
    -map 0:v -map 1:a -af apad \
    -c:v libx264 -preset veryslow -crf 30 -pix_fmt yuv420p -threads 1 \
    -c:a aac -b:a 48k -ac 1 -ar "$rate_hz" \
    -t "$total" -map_metadata -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact \
    -movflags +faststart \
    "$out"

echo "wrote $out ($(stat -c %s "$out") bytes)"
