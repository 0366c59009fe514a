"""Use cases, named by verbs. Commands flush, never commit: the caller's unit of work does."""
