# Measures Pianola's notes in a recording made by tests/ardour/run.sh.
#
#   awk -v rate=48000 -v period=256 -v player="60 64 67 72" -f analyse.awk MARKS RECORDING
#
# MARKS is session.lua's marks file: "tempo BPM latency FRAMES xruns N" per roll,
# then "done". RECORDING is jack-midi-recorder's output: "FRAME: STATUS DATA…" per
# event on JACK's frame clock, and "skip FRAME COUNT" where the recorder's cycle did
# not start where the last one ended. The track's MIDI output and Ardour's MIDI
# clock (Start 0xFA, 24 ticks 0xF8 per beat, Stop 0xFC) reach it on one port.
#
# Where a note belongs. Tick n of a roll (the Start is tick 0) sits at transport
# position n * tick (a 24th of a beat), so a tick gives the frame where the roll's
# position 0 was: its anchor, tick frame - n * tick. The track runs ahead of the
# transport by its playback latency (Ardour's latency compensation; the clock is
# aligned for its own port), so an event at frame f is at track position
#   p = f - anchor + latency
# by the anchor of the last usable tick before it. Anchoring on the nearest tick
# keeps the figures right when Ardour misses whole cycles on a busy machine (its
# transport then lags JACK's clock, and the later ticks and notes with it). A
# tick's number follows from its frame: m ticks after the last anchor, later by
# whole JACK periods, at most the frames the recorder was told it missed.
#
# The grid is 1/8 notes (half a beat) from position 0; a full note lasts 90 % of a
# step (the plugin's defaults); a note's length is measured in track positions,
# each end by its own anchor. A note belongs to the roll if it starts no earlier
# than one JACK period before position 0 (earlier ones were played while stopped)
# and its grid step should have ended by the Stop; notes the stop cut are counted
# apart. Notes at the player's velocity (jack_midiseq sends 64) and pitches are the
# player's own notes passed through, not Pianola's.
#
# Disturbances. On a busy machine the recorder's callback sometimes runs after
# the next cycle has begun, and JACK then gives it that cycle's start frame: its
# events are stamped a period late, and the recorder says "skip X 256" (forward)
# before them, or "skip X -256" (back) at its next callback, which gets the same
# start again. A forward skip is also written when the recorder, or the whole
# graph, missed cycles: Ardour's transport then lags JACK's clock by up to the
# skipped frames, or (the recorder alone) the events of those cycles are lost. So
# the events of a callback that starts with a forward skip, and of one followed by
# a back skip, are suspect (the latter, if the next cycle brings the same events
# again, same frame and bytes, are dropped as copies). Suspect ticks are no
# anchors; a clean tick that fits no whole-period lag, or more than one, is
# "uneven": no anchor either, and counted. A note is "disturbed" (left out of the
# figures, counted apart) if its note-on or note-off is suspect, or a forward skip
# lies between either and its anchor, or its note-off is missing or late where a
# skip could have eaten it.
#
# Prints one "ardour-result" line per roll (key=value) and up to 10 "ardour-bad"
# lines per roll for notes that are short or off the grid. The figures count the
# measured notes (not disturbed, not cut by the stop, not the player's):
#   notes, full (within 1 frame of the gate), full_share;
#   onset_error_min/max, worst_onset_error: frames from the note's 1/8 step, the
#     grid counted from the transport's start as the track saw it;
#   worst_onset_error_vs_first: the same against a grid through the first onset;
#   onsets (distinct), spacing_min/max: frames between onsets of neighbouring steps;
#   cut_by_stop, thru (player's notes), disturbed; xruns (JACK's log),
#   late_cycles, missed_stretches, uneven_clock_ticks; latency, start_frame (the
#   JACK frame of position 0 for the track), stop_frame, stop_marker (the
#   clock's Stop, or Ardour's CC 123 or the last tick where the Stop was lost).

function hex(s,    i, v) {
	v = 0
	s = tolower(s)
	for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return v
}

function round(x) {
	return x < 0 ? -int(-x + 0.5) : int(x + 0.5)
}

function abs(x) {
	return x < 0 ? -x : x
}

# Whether a missed stretch starts in the frames (a, b].
function missed_between(a, b,    j) {
	for (j = 1; j <= gaps; j++) if (gap_at[j] > a && gap_at[j] <= b) return 1
	return 0
}

# The last anchor of roll r at or before frame f (else the first).
function anchor_of(r, f,    h) {
	h = 1
	while (h < anchors[r] && anchor_frame[r, h + 1] <= f) h++
	return h
}

# Whether the position of the event at frame f is sure: a forward skip between
# its anchor tick and it may have moved it.
function unsure(r, f,    h) {
	h = anchor_of(r, f)
	return anchor_frame[r, h] < f && missed_between(anchor_frame[r, h], f)
}

# The frames missed in (a, b].
function missed_frames(a, b,    j, total) {
	total = 0
	for (j = 1; j <= gaps; j++) if (gap_at[j] > a && gap_at[j] <= b) total += gap_size[j]
	return total
}

BEGIN {
	if (rate == "") rate = 48000
	if (period == "") period = 256
	n_player = split(player, p)
	for (i = 1; i <= n_player; i++) is_player[p[i] + 0] = 1
}

# The marks file.
FNR == NR {
	if ($1 == "tempo") {
		rolls++
		bpm[rolls] = $2 + 0
		latency[rolls] = $4 + 0
		xruns[rolls] = $6 + 0
	} else if ($1 == "done") {
		done = 1
	}
	next
}

# The recording, kept in order: kind "skip" or "event".
$1 == "skip" {
	n++
	kind[n] = "skip"
	frame[n] = $2 + 0
	size[n] = $3 + 0
	if (size[n] >= 2147483648) size[n] -= 4294967296
	next
}

{
	t = $1
	sub(/:$/, "", t)
	n++
	kind[n] = "event"
	frame[n] = t + 0
	status[n] = tolower($2)
	data1[n] = hex($3)
	data2[n] = hex($4)
}

END {
	if (!done) { print "analyse: session.lua did not finish (no \"done\" mark)"; exit 1 }

	# Suspect events and missed stretches (see "Disturbances" above).
	for (i = 1; i <= n; i++) {
		if (kind[i] != "skip") continue
		if (size[i] > 0) {
			# Forward: the events of this callback may be stamped late; the
			# transport may lag by up to the skipped frames from here on.
			for (m = i + 1; m <= n && kind[m] == "event" && frame[m] < frame[i] + period; m++) late[m] = 1
			gaps++
			gap_at[gaps] = frame[i]
			gap_size[gaps] = size[i]
		} else {
			# Back: the callback before this one was late. What it read is either
			# this cycle's events once more (dropped) or its own, stamped late.
			for (m = i - 1; m >= 1 && kind[m] == "event" && frame[m] >= frame[i]; m--) {
				late[m] = 1
				for (q = i + 1; q <= n && kind[q] == "event" && frame[q] < frame[i] + period; q++) {
					if (frame[q] == frame[m] && status[q] == status[m] && data1[q] == data1[m] && data2[q] == data2[m]) dup[m] = 1
				}
			}
			late_cycles++
			late_at[late_cycles] = frame[i]
		}
	}

	# Rolls (Start to Stop), their ticks and their anchors; notes.
	r = 0
	rolling = 0
	for (i = 1; i <= n; i++) {
		if (kind[i] != "event" || dup[i]) continue
		st = status[i]
		if (st == "fa" || st == "fb") {
			r++
			rolling = 1
			start[r] = frame[i]
			tick_len = rate * 60 / bpm[r] / 24
			# The Start is position 0: the first anchor, tick 0.
			anchors[r] = 1
			anchor[r, 1] = frame[i]
			anchor_frame[r, 1] = frame[i]
			anchor_tick = 0
			continue
		}
		if (st == "fc") { stop[r] = frame[i]; rolling = 0; continue }
		# Ardour ends the notes (CC 123) where the transport stops: the stop if the
		# clock's Stop went missing.
		if (rolling && st == "b0" && data1[i] == 123 && !(r in ended)) ended[r] = frame[i]
		if (st == "f8") {
			# A tick's number follows from its frame: m ticks after the last anchor,
			# later by whole JACK periods, at most the frames missed in between
			# (cycles the whole graph missed make Ardour's transport lag by that
			# much; in cycles only the recorder missed, ticks are lost and nothing
			# lags). A tick that fits no m, or more than one, is uneven. Late-stamped
			# ticks are skipped.
			if (!rolling || late[i]) continue
			h = anchors[r]
			slack = missed_frames(anchor_frame[r, h], frame[i])
			d = frame[i] - anchor_frame[r, h]
			fits = 0
			for (m = int((d - slack) / tick_len); m * tick_len <= d; m++) {
				lag = d - m * tick_len
				if (m >= 0 && lag >= 0 && lag <= slack && lag % period == 0) { fits++; best = m }
			}
			# (A tick stamped late without a skip back after it, when the recorder's
			# next cycle was missed too, fits nothing: it is no anchor; the next
			# tick, counted from the last good anchor, is.)
			if (fits != 1) { uneven[r]++; continue }
			anchor_tick += best
			anchors[r]++
			anchor[r, anchors[r]] = frame[i] - anchor_tick * tick_len
			anchor_frame[r, anchors[r]] = frame[i]
			continue
		}
		kind_of = substr(st, 1, 1)
		channel = substr(st, 2, 1)
		if (kind_of == "b" && (data1[i] == 123 || data1[i] == 120)) {
			# All notes off / all sound off: every sounding note of the channel ends.
			for (key in pending) {
				if (substr(key, 1, 1) == channel && pending[key] > 0) { off[pending[key]] = i; pending[key] = 0 }
			}
			continue
		}
		if (kind_of != "9" && kind_of != "8") continue
		key = channel ":" data1[i]
		if (kind_of == "9" && data2[i] > 0) {
			# A note of the same channel and pitch still sounding lost its note-off;
			# it keeps no length.
			notes++
			on[notes] = i
			off[notes] = 0
			pending[key] = notes
		} else if (pending[key] > 0) {
			off[pending[key]] = i
			pending[key] = 0
		}
	}
	if (r != rolls) { printf "analyse: %d rolls but %d MIDI clock starts in the recording\n", rolls, r; exit 1 }

	for (r = 1; r <= rolls; r++) {
		# The stop: the clock's Stop; else Ardour's CC 123; else (both were in a
		# cycle the recorder missed) just after the last tick, which can only
		# count more notes as cut by the stop.
		stop_marker[r] = "clock"
		if (!(r in stop) && (r in ended)) { stop[r] = ended[r]; stop_marker[r] = "cc123" }
		if (!(r in stop)) { stop[r] = anchor_frame[r, anchors[r]] + 1; stop_marker[r] = "last_tick" }
		if (anchors[r] == 0) { printf "analyse: no usable MIDI clock tick in roll %d\n", r; exit 1 }
		step = rate * 60 / bpm[r] / 2
		gate = step * 0.9
		# The stop as a track position (by the last anchor before it).
		for (h = anchors[r]; h > 1 && anchor_frame[r, h] > stop[r]; h--) ;
		stop_pos = stop[r] - anchor[r, h] + latency[r]
		count = 0; full = 0; cut = 0; thru = 0; bad = 0; disturbed = 0; onsets = 0
		err_min = ""; err_max = ""; first = ""; worst_first = 0
		gap_min = ""; gap_max = ""; last_p = ""; last_k = ""
		for (j = 1; j <= notes; j++) {
			f = frame[on[j]]
			if (f < start[r] - latency[r] - step || f > stop[r]) continue
			pos = f - anchor[r, anchor_of(r, f)] + latency[r]
			if (pos < -period || pos >= stop_pos) continue
			if (data2[on[j]] == 64 && is_player[data1[on[j]]]) { thru++; continue }
			k = round(pos / step)
			g = k * step
			if (g + gate > stop_pos) { cut++; continue }
			# Disturbed: a suspect note-on or note-off, an unsure position, or no
			# note-off where the recorder missed cycles (it may have been there).
			if (late[on[j]] || unsure(r, f)) { disturbed++; continue }
			if (off[j] && (late[off[j]] || unsure(r, frame[off[j]]))) { disturbed++; continue }
			if (!off[j] && missed_between(f, f + 2 * step)) { disturbed++; continue }
			# The length in track positions: each end by its own anchor, so a lag
			# that grew in between does not count.
			len = off[j] ? frame[off[j]] - anchor[r, anchor_of(r, frame[off[j]])] + latency[r] - pos : -1
			# Too long with cycles missed in between: the real note-off may be lost
			# (the one found is a later one, or Ardour's CC 123 at the stop).
			if (len > gate + 1 && missed_between(f, frame[off[j]])) { disturbed++; continue }
			count++
			if (abs(len - gate) <= 1) full++
			err = pos - g
			if (err_min == "" || err < err_min) err_min = err
			if (err_max == "" || err > err_max) err_max = err
			# The same against a grid through the roll's first onset.
			if (first == "") first = pos
			e1 = pos - (first + round((pos - first) / step) * step)
			if (abs(e1) > worst_first) worst_first = abs(e1)
			# Spacing: between measured onsets of neighbouring steps.
			if (pos != last_p) {
				onsets++
				if (last_k != "" && k == last_k + 1) {
					d = pos - last_p
					if (gap_min == "" || d < gap_min) gap_min = d
					if (gap_max == "" || d > gap_max) gap_max = d
				}
				last_p = pos
				last_k = k
			}
			if ((abs(len - gate) > 1 || abs(err) > 1) && bad < 10) {
				bad++
				printf "ardour-bad tempo=%d step=%d onset_error=%d length=%d pitch=%d\n", bpm[r], k, err, len, data1[on[j]]
			}
		}
		late_here = 0
		for (j = 1; j <= late_cycles; j++) if (late_at[j] >= start[r] && late_at[j] <= stop[r]) late_here++
		missed = 0
		for (j = 1; j <= gaps; j++) if (gap_at[j] >= start[r] && gap_at[j] <= stop[r]) missed++
		worst = abs(err_min) > abs(err_max) ? abs(err_min) : abs(err_max)
		printf "ardour-result tempo=%d step_frames=%d gate_frames=%d notes=%d full=%d full_share=%.3f", \
			bpm[r], step, gate, count, full, count ? full / count : 0
		printf " onset_error_min=%d onset_error_max=%d worst_onset_error=%d worst_onset_error_vs_first=%d", \
			err_min, err_max, worst, worst_first
		printf " onsets=%d spacing_min=%d spacing_max=%d cut_by_stop=%d thru=%d disturbed=%d", \
			onsets, gap_min, gap_max, cut, thru, disturbed
		printf " xruns=%d late_cycles=%d missed_stretches=%d uneven_clock_ticks=%d", \
			xruns[r], late_here, missed, uneven[r]
		printf " latency=%d start_frame=%d stop_frame=%d stop_marker=%s\n", \
			latency[r], start[r] - latency[r], stop[r], stop_marker[r]
	}
}
