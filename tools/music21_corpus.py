#!/usr/bin/env python3
"""Writes an out-of-corpus evaluation set: 50 public-domain pieces from
music21's corpus (13 composers: chorales, string quartets reduced to one
keyboard part, rags, mazurkas, madrigals, masses) as single-track MIDI files.

They are for evaluation and fine-tuning demonstrations only: the built-in
model trains on the 92-song reference corpus alone. Do not commit them.

    pip install -r tools/requirements.txt
    python3 tools/music21_corpus.py /tmp/out-of-corpus      # writes 50 .mid
    python3 tools/music21_corpus.py /tmp/ooc --split         # also train/ and held-out/
    python3 tools/music21_corpus.py /tmp/ooc/second --second /tmp/ooc  # a second set

With --split the pieces are also copied into DIR/train and DIR/held-out
(every fifth piece, by name order, held out): what `pianola train --from
builtin --corpus DIR/train` fine-tunes on and `pianola eval --songs
DIR/held-out` scores.

With --second FIRST it writes a second set instead, for a figure no
choice was made on: 41 pieces from the other end of each composer's list
(none of them in FIRST, the first set's folder) and four composers the
first set lacks.
"""

import argparse
import copy
import pathlib
import shutil

from music21 import corpus, instrument, stream

# (composer, how many pieces, which): the first N of music21's list for
# that composer that parse to a score with notes.
CHOICES = [
    ("bach", 8),
    ("beethoven", 8),
    ("mozart", 8),
    ("haydn", 8),
    ("monteverdi", 5),
    ("palestrina", 4),
    ("josquin", 3),
    ("joplin", 1),
    ("chopin", 1),
    ("handel", 1),
    ("schubert", 1),
    ("cpebach", 1),
    ("corelli", 1),
]

# The second set: the same, taken from the end of each composer's list.
SECOND = [
    ("bach", 8),
    ("beethoven", 8),
    ("mozart", 6),
    ("monteverdi", 5),
    ("palestrina", 6),
    ("trecento", 5),
    ("weber", 1),
    ("verdi", 1),
    ("luca", 1),
]


def one_keyboard_part(score):
    """Every note of every part in one piano part, at its own offset."""
    part = stream.Part()
    part.insert(0, instrument.Piano())
    for note in score.recurse().notes:
        part.insert(note.getOffsetInHierarchy(score), copy.deepcopy(note))
    merged = stream.Score()
    merged.insert(0, part)
    return merged


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=pathlib.Path, help="folder to write the MIDI files to")
    parser.add_argument("--split", action="store_true", help="also write train/ and held-out/")
    parser.add_argument(
        "--second",
        type=pathlib.Path,
        metavar="FIRST",
        help="write the second set, none of whose pieces are in FIRST",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    choices, order = CHOICES, 1
    written = []
    if args.second:
        choices, order = SECOND, -1
        written = [path.name for path in args.second.glob("*.mid")]
    first = len(written)
    for composer, wanted in choices:
        count = 0
        for path in corpus.getComposer(composer)[::order]:
            if count == wanted:
                break
            if path.suffix not in (".mxl", ".xml", ".krn", ".abc"):
                continue
            name = f"{composer}-{path.parent.name}-{path.stem}".replace(" ", "_") + ".mid"
            if name in written:  # the same piece in another format
                continue
            try:
                score = corpus.parse(path)
                if isinstance(score, stream.Opus):
                    score = score.scores[0]
                merged = one_keyboard_part(score)
                if len(merged.recurse().notes) < 120:
                    continue
                merged.write("midi", fp=str(args.out / name))
            except Exception as error:  # a piece music21 cannot write is skipped
                print(f"skipped {path.name}: {error}")
                continue
            written.append(name)
            count += 1
        print(f"{composer}: {count} pieces")
    written = written[first:]
    print(f"{len(written)} pieces in {args.out}")
    if args.split:
        for folder in ("train", "held-out"):
            (args.out / folder).mkdir(exist_ok=True)
            for stale in (args.out / folder).glob("*.mid"):
                stale.unlink()
        for i, name in enumerate(sorted(written)):
            folder = "held-out" if i % 5 == 4 else "train"
            shutil.copy(args.out / name, args.out / folder / name)


if __name__ == "__main__":
    main()
