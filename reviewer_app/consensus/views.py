"""Consensus views."""
