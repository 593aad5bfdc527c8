"""Faust agents: decode, call the pure code in ``core``/``detectors``, send."""
