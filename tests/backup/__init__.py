"""Tests of hotline/backup (a package, so tests elsewhere can import its fixtures by name)."""
