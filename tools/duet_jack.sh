#!/usr/bin/env bash
# The duet settings measured through a real JACK server (dummy driver) with
# JACK's own clients: jack_midiseq loops an eight-note E-flat minor phrase in
# eighths at 120 BPM (16 beats of it, then 8 beats of rest, over and over),
# `pianola live` plays along with the options given, jack_midi_dump takes its
# output, and the session's recording is counted (tools/duet_count.py).
#
#   tools/duet_jack.sh                    # the defaults
#   tools/duet_jack.sh --space 0          # no room left
#   tools/duet_jack.sh --range below
#   tools/duet_jack.sh --dynamics follow
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pianola="${PIANOLA:-$here/../target/release/pianola}"
seconds="${SECONDS_TO_PLAY:-25}"
tmp="$(mktemp -d)"
export JACK_DEFAULT_SERVER="pianola-duet-$$" JACK_NO_START_SERVER=1
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
jackd -n "$JACK_DEFAULT_SERVER" --no-realtime -d dummy -r 48000 -p 256 >"$tmp/jackd.log" 2>&1 &
pids+=($!)
sleep 2
jack_midi_dump >"$tmp/dump.txt" 2>&1 &
pids+=($!)
keys=(63 66 70 68 66 65 63 58)
notes=()
for i in $(seq 0 31); do notes+=($((i * 12000)) "${keys[$((i % 8))]}" 10800); done
# 24 beats at 24,000 frames a beat: 16 of the phrase, 8 of rest.
jack_midiseq player 576000 "${notes[@]}" >"$tmp/seq.log" 2>&1 &
pids+=($!)
sleep 1
timeout -s INT "$seconds" "$pianola" live --backend jack --input player:out \
	--output midi-monitor:input --seed 7 --record "$tmp/take.mid" "$@" 2>"$tmp/live.err" || true
grep "notes in" "$tmp/live.err" || { cat "$tmp/live.err" >&2; exit 1; }
python3 "$here/duet_count.py" "$tmp/take.mid"
