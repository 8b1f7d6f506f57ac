"""Models, one file each, plus the shared config, loading and output machinery."""
