"""Streamed tabular exports (CSV and XLSX) in flat memory, whatever the number of rows."""
