"""Pure logic of the stream job (no Faust import): windows, series state, features, clocks."""
