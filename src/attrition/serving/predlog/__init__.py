"""The prediction log: rows written in the background, journaled to a local spool first
and replayed from it while the database is unreachable."""
