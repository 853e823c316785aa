"""The Textual graph browser: a client of `scanner` (which never imports it)."""
