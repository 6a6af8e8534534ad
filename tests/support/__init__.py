"""Test helpers shared by several test modules (loopback HTTP server, ...)."""
