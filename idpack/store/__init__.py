"""State idpack owns (short links, pending email changes, rate-limit windows): one small
interface, `Store`, with an SQLite backend for one machine."""
