"""``python -m padit_stream worker -l info`` (or ``tail``, ``eval``): see :mod:`.cli`."""

from __future__ import annotations

from padit_stream.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
