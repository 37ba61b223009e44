"""Tests of hotline/radio (a package, so tests elsewhere can import its fixtures by name)."""
