"""Counts a `pianola live --record` take (track 1 the player, track 2
Pianola): notes while the player plays and in each rest of 3 s or more,
mean pitch and velocity, and Pianola's notes outside the player's range of
the two seconds (a bar at 120 BPM) before them."""
import sys

import mido


def onsets(path):
    midi = mido.MidiFile(path)
    tempo = 500000
    events = []
    for track_index, track in enumerate(midi.tracks):
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "set_tempo":
                tempo = message.tempo
            if message.type == "note_on" and message.velocity > 0:
                seconds = mido.tick2second(tick, midi.ticks_per_beat, tempo)
                events.append((seconds, track_index, message.note, message.velocity))
    events.sort()
    return [e for e in events if e[1] == 1], [e for e in events if e[1] == 2]


def main():
    player, own = onsets(sys.argv[1])
    rests = [(a[0], b[0]) for a, b in zip(player, player[1:]) if b[0] - a[0] > 3]
    in_rest = lambda s: any(a + 0.5 < s < b for a, b in rests)
    playing = [e for e in own if not in_rest(e[0])]
    mean = lambda xs: sum(xs) / max(len(xs), 1)
    print(f"player: {len(player)} notes, mean pitch {mean([e[2] for e in player]):.1f}, "
          f"mean velocity {mean([e[3] for e in player]):.1f}")
    print(f"pianola: {len(own)} notes, mean pitch {mean([e[2] for e in own]):.1f}, "
          f"mean velocity {mean([e[3] for e in own]):.1f}")
    print(f"pianola while the player plays (and a beat after): {len(playing)} "
          f"({len(playing) / max(len(player), 1):.2f} x the player's)")
    for a, b in rests:
        inside = [e for e in own if a < e[0] < b]
        print(f"rest {a:.2f}-{b:.2f} s: {len(inside)} notes, "
              f"{len(set(round(e[0], 3) for e in inside))} onsets")
    below = above = 0
    for seconds, _, key, _ in own:
        bar = [e[2] for e in player if seconds - 2.0 < e[0] < seconds]
        if bar:
            below += key >= min(bar)
            above += key <= max(bar)
    print(f"pianola notes not below the player's last bar: {below}; not above: {above}")


main()
