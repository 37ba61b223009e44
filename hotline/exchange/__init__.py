"""File exchange with the provincial / national 12351 platform (docs/exchange.md).

Cases handed down come in as JSON lines or .xlsx (`hotline exchange import`), are registered through the
case service like any other case and keep the platform's id (`Case.external_id`); the feedback on those
cases goes back up as a file (`hotline exchange export`).
"""
