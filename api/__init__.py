"""The JSON API (FastAPI) and the ``shoubanping`` command line."""
