"""Tests of hotline/workdays (a package, so tests elsewhere can import its fixtures by name)."""
