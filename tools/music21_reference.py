"""Reference data from music21 5.x, the library the seed project used.

Writes two files that the Rust tests compare against:
  normal_order.txt   every non-empty pitch-class set (as a 12-bit mask) and
                     music21's `chord.normalOrder` for it
  corpus_tokens.json per file of the corpus, the token sequence that the
                     seed's `get_notes()` extracts

Usage (needs `pip install music21==5.7.2`):
  python tools/music21_reference.py CORPUS_DIR OUT_DIR
"""
import glob
import json
import os
import sys

from music21 import chord, converter, instrument, note


def normal_orders():
    lines = []
    for mask in range(1, 4096):
        pcs = [pc for pc in range(12) if mask >> pc & 1]
        order = chord.Chord(pcs).normalOrder
        lines.append("%d %s" % (mask, ".".join(str(pc) for pc in order)))
    return lines


def seed_tokens(path):
    """The seed's extraction, step for step (Classical-Piano-Composer lstm.py)."""
    midi = converter.parse(path)
    try:
        parts = instrument.partitionByInstrument(midi)
        elements = parts.parts[0].recurse()
    except Exception:
        elements = midi.flat.notes
    tokens = []
    for element in elements:
        if isinstance(element, note.Note):
            tokens.append(str(element.pitch))
        elif isinstance(element, chord.Chord):
            tokens.append(".".join(str(n) for n in element.normalOrder))
    return tokens


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "normal_order.txt"), "w") as f:
        f.write("\n".join(normal_orders()) + "\n")
    result = {}
    for path in sorted(glob.glob(os.path.join(corpus, "*.mid"))):
        result[os.path.basename(path)] = seed_tokens(path)
    with open(os.path.join(out, "corpus_tokens.json"), "w") as f:
        json.dump(result, f, indent=0)
    print("files", len(result), "tokens", sum(len(t) for t in result.values()))


if __name__ == "__main__":
    main()
