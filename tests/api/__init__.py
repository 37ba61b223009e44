"""Tests of hotline/api (a package, so tests elsewhere can import its fixtures by name)."""
