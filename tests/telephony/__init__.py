"""Tests of hotline/telephony (a package, so tests elsewhere can import its fixtures by name)."""
