"""The storage benchmark behind ``hotrod bench``: targets, ingest driver, verification, report."""
