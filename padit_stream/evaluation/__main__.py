"""``python -m padit_stream.evaluation nab ...``."""

from padit_stream.evaluation.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
