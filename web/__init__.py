"""HTML pages (Jinja2). They call the same commands and queries as the JSON API."""
