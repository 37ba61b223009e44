"""Tests of hotline/audit (a package, so tests elsewhere can import its fixtures by name)."""
