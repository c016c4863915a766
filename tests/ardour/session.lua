-- Ardour 7 session script for tests/ardour/run.sh, run by `ardour7-lua` (no window).
--
-- Arguments (after the script's name):
--   1  session folder (must not exist yet)
--   2  marks file: this script writes one line per tempo and "done" at the end
--   3  JACK port of the player (jack_midiseq), connected to the track's MIDI input
--   4  JACK port of the recorder (jack-midi-recorder), fed the track's MIDI output and
--      Ardour's MIDI clock (its Start/Stop messages mark where the transport rolled)
--   5  the JACK server's log: its "XRun" lines are counted around each roll
--   6  seconds the transport rolls per tempo
--   7… tempos in BPM, one roll each (e.g. 120 100)
--
-- Ardour's JACK client is named "ardour" and the track "Pianola", so its ports are
-- "ardour:Pianola/midi_in 1" and "ardour:Pianola/midi_out 1".

local session_dir, marks_path, player_port, recorder_port = arg[1], arg[2], arg[3], arg[4]
local jackd_log = arg[5]
local roll_seconds = tonumber(arg[6])
local tempos = {}
for i = 7, #arg do
	tempos[#tempos + 1] = tonumber(arg[i])
end
assert(session_dir and marks_path and player_port and recorder_port and jackd_log and roll_seconds and #tempos > 0,
	"usage: ardour7-lua session.lua SESSION_DIR MARKS_FILE PLAYER_PORT RECORDER_PORT JACKD_LOG ROLL_SECONDS BPM…")

local marks = assert(io.open(marks_path, "w"))
local function mark(line)
	marks:write(line, "\n")
	marks:flush()
	print("pianola-ardour: " .. line)
end

-- The JACK server is already running (run.sh started it); "ardour" is the client name.
assert(AudioEngine:set_backend("JACK", "ardour", ""), "Ardour has no JACK backend")
create_session(session_dir, "pianola", 48000)
assert(Session, "Ardour could not create the session (is the JACK server running?)")

-- Send MIDI clock: its Start (0xFA) and Stop (0xFC) show in the recording where
-- the transport started and stopped, in the same frame count as the notes.
ARDOUR.config():set_send_midi_clock(true)

-- One MIDI track (1 MIDI in, 1 MIDI out) with Pianola as its only plugin.
local midi = ARDOUR.DataType("midi")
local tracks = Session:new_midi_track(ARDOUR.ChanCount(midi, 1), ARDOUR.ChanCount(midi, 1), false,
	ARDOUR.PluginInfo(), nil, nil, 1, "Pianola", ARDOUR.PresentationInfo.max_order,
	ARDOUR.TrackMode.Normal, true, false)
assert(tracks:size() == 1, "Ardour could not create the MIDI track")
local track = tracks:front()
local pianola = ARDOUR.LuaAPI.new_plugin(Session, "Pianola", ARDOUR.PluginType.VST3, "")
assert(not pianola:isnil(), "Ardour does not know the Pianola VST3 (was ardour-vst3-scanner run on it?)")
assert(track:add_processor_by_index(pianola, 0, nil, true) == 0, "Ardour could not insert Pianola")

-- Feel = Grid: one note per 1/8 step for the gate, what the analysis measures.
-- Feel's choices are Model and Grid; Grid is 1 (plain or normalised alike).
local function set_parameter(proc, name, value)
	local plugin = proc:to_insert():plugin(0)
	local n = 0
	for j = 0, plugin:parameter_count() - 1 do
		if plugin:parameter_is_control(j) and plugin:parameter_is_input(j) then
			if plugin:parameter_label(j) == name then
				assert(ARDOUR.LuaAPI.set_processor_param(proc, n, value), "Ardour could not set " .. name)
				return
			end
			n = n + 1
		end
	end
	error("Pianola has no parameter " .. name)
end
set_parameter(pianola, "Feel", 1)

-- Listen to the MIDI input while rolling too: a track that is not record-armed
-- plays its (empty) playlist instead of its input when monitoring is "auto".
track:monitoring_control():set_value(ARDOUR.MonitorChoice.MonitorInput, PBD.GroupControlDisposition.NoGroup)

-- How many xruns (periods some client did not finish in time) JACK has logged so
-- far. During an xrun events are lost or late, so a roll with one is not a clean
-- measurement.
local function xruns()
	local count = 0
	local log = io.open(jackd_log, "r")
	if log then
		for line in log:lines() do
			if line:find("XRun", 1, true) then count = count + 1 end
		end
		log:close()
	end
	return count
end

local function connect(from, to)
	local ok = os.execute(string.format("jack_connect '%s' '%s'", from, to))
	assert(ok, "jack_connect " .. from .. " " .. to .. " failed")
end
connect(player_port, "ardour:Pianola/midi_in 1")
connect("ardour:Pianola/midi_out 1", recorder_port)
connect("ardour:MIDI Clock out", recorder_port)

-- Let Pianola hear the player before the first roll (Continue mode starts on the
-- first note it hears).
sleep(1)

for _, bpm in ipairs(tempos) do
	-- A single tempo from the start of the timeline (the edit is applied as
	-- Ardour's GUI applies it: fetch a writable copy, change it, publish it).
	local map = Temporal.TempoMap.fetch_writable()
	map:set_tempo(Temporal.Tempo(bpm, bpm, 4), Temporal.timepos_t(0))
	Temporal.TempoMap.update(map)

	Session:request_locate(0, false, ARDOUR.LocateTransportDisposition.MustStop, ARDOUR.TransportRequestSource.TRS_UI)
	sleep(1)
	-- Ardour runs a track ahead of the transport by its playback latency (here the
	-- track's audio path to the sound card), so the track's MIDI output leaves that
	-- many frames before the MIDI clock, which is aligned for its own port.
	local latency = track:playback_latency(false)
	local xruns_before = xruns()
	Session:request_roll(ARDOUR.TransportRequestSource.TRS_UI)
	sleep(roll_seconds)
	Session:request_stop(false, false, ARDOUR.TransportRequestSource.TRS_UI)
	sleep(1)
	assert(not Session:transport_rolling(), "the transport did not stop")
	mark(string.format("tempo %d latency %d xruns %d", bpm, latency, xruns() - xruns_before))
end

mark("done")
marks:close()
close_session()
