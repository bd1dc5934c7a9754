"""Rules: every finding kimage can report, with a stable ID and its metadata."""
