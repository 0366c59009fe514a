"""Shoubanping's domain: models, the request lifecycle, commands and their rules.

Nothing in this package imports a web framework, a template engine or a queue library: `api/`,
`web/` and `handlers/` are adapters that call the commands defined here.
"""
