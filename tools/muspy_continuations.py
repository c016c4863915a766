#!/usr/bin/env python3
"""A second opinion on continuations, from MusPy's standard statistics.

Reads the folder `continue_eval --write DIR` fills (per piece:
NAME.primer.mid, NAME.tail.mid, NAME.real.mid, NAME.seedK.mid) and computes
seven MusPy statistics of each file: pitch range, pitch classes used,
polyphony, pitch-class entropy, scale consistency, empty-beat rate and
groove consistency. For each statistic, the error of the continuations
(|continuation - real|, the seeds averaged, then the mean over pieces) over
the error of keeping the primer's character (|primer - real|); then the
mean of the seven ratios. Two yardsticks: the whole primer, and its last
events only (`tail`, as many as the continuation: the stricter one, since
range and pitch classes grow with length). Each window `continue_eval
--windows N` wrote counts as a piece.

Last, the piece itself as a continuation: its stretches just before the
real continuation (`tail`) and just after it (`next`), scored as the
seeds are, over the primer's error on the same pieces. Continuing exactly
in the piece's character scores about this; a mean ratio below it asks a
continuation closer to the real one than the music's own neighbours are.

    python3 tools/muspy_continuations.py DIR
"""

import collections
import pathlib
import statistics
import sys

import muspy

STATISTICS = {
    "pitch range": lambda m: muspy.pitch_range(m),
    "pitch classes used": lambda m: muspy.n_pitch_classes_used(m),
    "polyphony": lambda m: muspy.polyphony(m),
    "pitch-class entropy": lambda m: muspy.pitch_class_entropy(m),
    "scale consistency": lambda m: muspy.scale_consistency(m),
    "empty-beat rate": lambda m: muspy.empty_beat_rate(m),
    "groove consistency": lambda m: muspy.groove_consistency(m, 4 * m.resolution),
}


def figures(path):
    music = muspy.read_midi(str(path))
    return {name: float(f(music)) for name, f in STATISTICS.items()}


def main():
    folder = pathlib.Path(sys.argv[1])
    pieces = collections.defaultdict(dict)
    for path in sorted(folder.glob("*.mid")):
        name, part = path.stem.rsplit(".", 1)
        pieces[name][part] = figures(path)
    errors = {y: collections.defaultdict(list) for y in ("continuation", "primer", "tail")}
    for parts in pieces.values():
        real = parts["real"]
        seeds = [f for part, f in parts.items() if part.startswith("seed")]
        for name in STATISTICS:
            if any(v != v for v in [real[name]] + [s[name] for s in seeds]):
                continue  # a NaN: the statistic says nothing of this piece
            errors["continuation"][name].append(
                statistics.mean(abs(s[name] - real[name]) for s in seeds)
            )
            errors["primer"][name].append(abs(parts["primer"][name] - real[name]))
            errors["tail"][name].append(abs(parts["tail"][name] - real[name]))
    print(f"{len(pieces)} pieces of {folder}")
    print("statistic | continuation error | primer's | ratio | tail's | ratio")
    ratios = {"primer": [], "tail": []}
    for name in STATISTICS:
        c = statistics.mean(errors["continuation"][name])
        row = [f"{name} | {c:.3f}"]
        for yardstick in ("primer", "tail"):
            y = statistics.mean(errors[yardstick][name])
            ratio = c / y if y > 0 else float("nan")
            ratios[yardstick].append(ratio)
            row.append(f"{y:.3f} | {ratio:.2f}")
        print(" | ".join(row))
    print(
        "mean ratio | | | {:.2f} | | {:.2f}".format(
            statistics.mean(ratios["primer"]), statistics.mean(ratios["tail"])
        )
    )
    print("the piece itself as a continuation, error over the primer's:")
    for part in ("tail", "next"):
        ratios = itself(pieces, part)
        if ratios:
            row = " | ".join(f"{r:.2f}" for r in ratios)
            print(f"{part} | {row} | mean {statistics.mean(ratios):.2f}")


def itself(pieces, part):
    """Each statistic's error of the piece's own `part` over the primer's,
    on the pieces that have that part; empty where none has it."""
    ratios = []
    for name in STATISTICS:
        own, primer = [], []
        for parts in pieces.values():
            if part not in parts:
                continue
            real = parts["real"][name]
            values = (real, parts[part][name], parts["primer"][name])
            if any(v != v for v in values):
                continue
            own.append(abs(parts[part][name] - real))
            primer.append(abs(parts["primer"][name] - real))
        if not own:
            return []
        y = statistics.mean(primer)
        ratios.append(statistics.mean(own) / y if y > 0 else float("nan"))
    return ratios


if __name__ == "__main__":
    main()
