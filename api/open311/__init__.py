"""Open311 GeoReport v2 under ``/open311/v2``: the standard's paths, parameters and two formats over
the same workflow as the rest of the service (see workflow/open311.py for what the terms mean)."""
