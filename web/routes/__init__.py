"""The page routers, one module per kind of user."""
