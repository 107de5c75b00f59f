"""The click layer: parsing, rich progress and printing only. All work happens in the library."""
