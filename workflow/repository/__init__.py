"""All database queries, one module per aggregate."""
