"""Project 06 indicator warehouse."""
