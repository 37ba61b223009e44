"""Tests of hotline/admin (a package, so tests elsewhere can import its fixtures by name)."""
