"""Tests of hotline/auth (a package, so tests elsewhere can import its fixtures by name)."""
