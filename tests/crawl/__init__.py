"""Tests of issue 5: crawling the real catalogues over HTTP (loopback servers only)."""
