"""Tests of hotline/cases (a package, so tests elsewhere can import its fixtures by name)."""
