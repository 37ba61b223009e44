"""Tests of hotline/knowledge (a package, so tests elsewhere can import its fixtures by name)."""
