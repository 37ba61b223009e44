"""Tests of hotline/digest (a package, so tests elsewhere can import its fixtures by name)."""
