"""``python -m bench``: the same command as ``qbank bench``."""

from bench.cli import main

main(prog_name="python -m bench")
