"""Tests of hotline/notify (a package, so tests elsewhere can import its fixtures by name)."""
