"""Write a neighbouring-subjects list (``index.neighbours``) from question banks:
one ``subject<TAB>question`` line per question and quick-reference row title,
the bank's title as the subject.

Run: .venv/bin/python scripts/neighbour_list.py BANK.md [BANK.md ...] > neighbours/NAME.txt

The shipped ``neighbours/python-pandas-numpy.txt`` is this script over
``tests/fixtures/corpus-extra/{Python,Pandas,NumPy}.md`` (the site's other
banks, the shipped bank's repository and licence)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.parser import BankParser  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("banks", nargs="+", type=Path, help="question-bank markdown files")
    args = parser.parse_args()
    print("# Neighbouring subjects: questions no served bank answers (index/neighbours.py).")
    print("# Written by scripts/neighbour_list.py from: " + ", ".join(p.name for p in args.banks))
    for path in args.banks:
        bank = BankParser().parse(str(path), path.read_text(encoding="utf-8"))
        titles = [q.title for q in bank.questions] + [r.title for r in bank.quick_refs]
        for title in dict.fromkeys(" ".join(t.split()) for t in titles):
            print(f"{bank.bank}\t{title}")


if __name__ == "__main__":
    main()
