"""Report download routes."""
