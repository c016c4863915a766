#!/usr/bin/env bash
# Plays Pianola's VST3 in a real DAW, Ardour 7 without a window, and measures
# whether its notes sound their full length and land on the 1/8 grid while the
# transport rolls.
#
#   tests/ardour/run.sh [PATH/TO/pianola.vst3]      (default: target/bundled/pianola.vst3)
#
# What it does:
#   1. copies the bundle into a temporary HOME (~/.vst3) and indexes it with
#      ardour-vst3-scanner, so the user's own Ardour configuration is not touched;
#   2. starts a JACK server with the dummy driver under a unique name;
#   3. starts a player (jack_midiseq, a loop of four notes) and a recorder
#      (jack-midi-recorder, tests/src/bin: it stamps events with JACK's frame
#      clock and says which cycles it missed);
#   4. runs session.lua in ardour7-lua: a 48 kHz session, a MIDI track with
#      Pianola (default parameters: Continue, 1/8, gate 90 %), the player on its
#      input, its output and Ardour's MIDI clock into the recorder; then one roll
#      per tempo from the start of the timeline;
#   5. analyse.awk prints per tempo a line
#        ardour-result tempo=120 step_frames=12000 gate_frames=10800 notes=… full=…
#          full_share=… onset_error_min=… onset_error_max=… worst_onset_error=… …
#      (onset errors in frames against the 1/8 grid from the transport's start as
#      the track saw it; its header says how, and what each figure is), and
#      "ardour-bad …" lines for the first short or off-grid notes.
#
# Settings (environment):
#   PIANOLA_ARDOUR_RECORDER      the jack-midi-recorder program (default: built with cargo)
#   PIANOLA_ARDOUR_TEMPOS        tempos, one roll each (default "120 100")
#   PIANOLA_ARDOUR_ROLL_SECONDS  seconds per roll (default 10)
#   PIANOLA_ARDOUR_KEEP=1        keep the temporary folder (session, logs, recording)
#
# Exit status: 0 when it measured (whatever the figures), 1 when something failed,
# 2 when a program is missing (run scripts/setup).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bundle="${1:-$root/target/bundled/pianola.vst3}"
tempos="${PIANOLA_ARDOUR_TEMPOS:-120 100}"
roll_seconds="${PIANOLA_ARDOUR_ROLL_SECONDS:-10}"
scanner=/usr/lib/ardour7/ardour-vst3-scanner
# JACK's period (frames per cycle); the analysis needs it to tell missed cycles.
period=256
# The player's loop: 2 s (96,000 frames at 48 kHz), a note every half second.
player_loop=96000
player_notes=(0 60 6000 24000 64 6000 48000 67 6000 72000 72 6000)
player_pitches="60 64 67 72"

for program in jackd jack_lsp jack_connect jack_midiseq ardour7-lua awk timeout; do
	if ! command -v "$program" >/dev/null; then
		echo "run.sh: $program is missing: run scripts/setup (it installs jackd2 and ardour)" >&2
		exit 2
	fi
done
if [ ! -x "$scanner" ]; then
	echo "run.sh: $scanner is missing: run scripts/setup (it installs ardour)" >&2
	exit 2
fi
if [ ! -f "$bundle/Contents/x86_64-linux/pianola.so" ]; then
	echo "run.sh: no VST3 bundle at $bundle: run cargo xtask bundle pianola" >&2
	exit 1
fi
recorder="${PIANOLA_ARDOUR_RECORDER:-}"
if [ -z "$recorder" ]; then
	(cd "$root" && cargo build -q -p pianola-tests --bin jack-midi-recorder)
	recorder="${CARGO_TARGET_DIR:-$root/target}/debug/jack-midi-recorder"
fi
if [ ! -x "$recorder" ]; then
	echo "run.sh: no recorder program at $recorder" >&2
	exit 1
fi

tmp="$(mktemp -d -t pianola-ardour.XXXXXX)"
server="pianola-ardour-$$-$RANDOM"
jackd_pid=""
player_pid=""
recorder_pid=""
ardour_pid=""

# Stops what this script started, the JACK server last and with SIGTERM (a
# SIGKILL would leave its name taken in JACK's registry).
cleanup() {
	local status=$?
	if [ -n "$ardour_pid" ] && kill -0 "$ardour_pid" 2>/dev/null; then
		kill -TERM "$ardour_pid" 2>/dev/null || true
		wait "$ardour_pid" 2>/dev/null || true
	fi
	if [ -n "$player_pid" ]; then
		kill -TERM "$player_pid" 2>/dev/null || true
		wait "$player_pid" 2>/dev/null || true
	fi
	if [ -n "$recorder_pid" ]; then
		kill -INT "$recorder_pid" 2>/dev/null || true
		wait "$recorder_pid" 2>/dev/null || true
	fi
	if [ -n "$jackd_pid" ]; then
		kill -TERM "$jackd_pid" 2>/dev/null || true
		wait "$jackd_pid" 2>/dev/null || true
	fi
	if [ "${PIANOLA_ARDOUR_KEEP:-}" = 1 ]; then
		echo "run.sh: files kept in $tmp" >&2
	elif [ "$status" -ne 0 ]; then
		# Keep the logs and the recording, not the copy of the bundle.
		rm -rf "$tmp/home/.vst3"
		echo "run.sh: logs kept in $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Waits (up to 10 s) until the JACK port $1 exists.
wait_for_port() {
	local i
	for i in $(seq 100); do
		if jack_lsp 2>/dev/null | grep -qxF "$1"; then return 0; fi
		sleep 0.1
	done
	echo "run.sh: JACK port $1 did not appear" >&2
	return 1
}

# 1. A private HOME for Ardour, with the bundle in ~/.vst3. Ardour takes a cache
# entry only if it is strictly newer (whole seconds) than the plugin's library,
# so the copy is dated a minute back before it is indexed.
mkdir -p "$tmp/home/.vst3" "$tmp/config" "$tmp/cache"
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache"
# Pianola's Seed parameter starts here (a new instance reads it): every run
# samples the same take wherever the machine keeps up.
export PIANOLA_SEED="${PIANOLA_SEED:-1}"
cp -r "$bundle" "$tmp/home/.vst3/pianola.vst3"
touch -m -d '1 minute ago' "$tmp/home/.vst3/pianola.vst3/Contents/x86_64-linux/pianola.so"
LD_LIBRARY_PATH=/usr/lib/ardour7 "$scanner" -q -f "$tmp/home/.vst3/pianola.vst3" >"$tmp/scanner.log" 2>&1 || {
	cat "$tmp/scanner.log" >&2
	echo "run.sh: ardour-vst3-scanner could not index the bundle" >&2
	exit 1
}

# 2. The JACK server: dummy driver (no sound card), 48 kHz.
# JACK_NO_START_SERVER keeps the clients from starting a default server of their own.
export JACK_DEFAULT_SERVER="$server" JACK_NO_START_SERVER=1
jackd -n "$server" --no-realtime -d dummy -r 48000 -p "$period" >"$tmp/jackd.log" 2>&1 &
jackd_pid=$!
wait_for_port system:playback_1

# 3. The player loops its notes into Pianola; the recorder writes every event it
# gets with its frame on JACK's clock.
"$recorder" recorder >"$tmp/recording.txt" 2>"$tmp/recorder.log" &
recorder_pid=$!
jack_midiseq player "$player_loop" "${player_notes[@]}" >"$tmp/player.log" 2>&1 &
player_pid=$!
wait_for_port recorder:input
wait_for_port player:out

# 4. Ardour. Its log is long (it reports every cross-thread call); kept on failure.
read -r -a tempo_list <<<"$tempos"
limit=$((60 + ${#tempo_list[@]} * (roll_seconds + 5)))
timeout -s TERM "$limit" ardour7-lua "$here/session.lua" "$tmp/session" "$tmp/marks.txt" \
	player:out recorder:input "$tmp/jackd.log" "$roll_seconds" "${tempo_list[@]}" >"$tmp/ardour.log" 2>&1 &
ardour_pid=$!
ardour_status=0
wait "$ardour_pid" || ardour_status=$?
ardour_pid=""
if [ "$ardour_status" -ne 0 ] || ! grep -qx done "$tmp/marks.txt" 2>/dev/null; then
	grep -v 'call-slot\|direct dispatch' "$tmp/ardour.log" | tail -n 30 >&2 || true
	echo "run.sh: ardour7-lua failed (status $ardour_status)" >&2
	exit 1
fi

# Stop the recorder (it writes out what it holds) before reading it.
if ! kill -INT "$recorder_pid" 2>/dev/null; then
	recorder_status=0
	wait "$recorder_pid" || recorder_status=$?
	recorder_pid=""
	cat "$tmp/recorder.log" >&2
	echo "run.sh: the recorder ended early (status $recorder_status)" >&2
	exit 1
fi
recorder_status=0
wait "$recorder_pid" || recorder_status=$?
recorder_pid=""
if [ "$recorder_status" -ne 0 ]; then
	cat "$tmp/recorder.log" >&2
	echo "run.sh: the recorder failed (status $recorder_status)" >&2
	exit 1
fi

# 5. The figures. JACK's xruns (periods a client missed) are counted as a hint
# for odd figures on a busy machine.
awk -v rate=48000 -v period="$period" -v player="$player_pitches" -f "$here/analyse.awk" "$tmp/marks.txt" "$tmp/recording.txt"
echo "ardour-info xruns=$(grep -c 'XRun' "$tmp/jackd.log" || true) tempos=\"$tempos\" roll_seconds=$roll_seconds"
