"""Pure logic of the stream job (no Faust import): wire format, windows, features."""
