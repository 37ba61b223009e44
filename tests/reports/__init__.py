"""Tests of hotline/reports (a package, so tests elsewhere can import its fixtures by name)."""
