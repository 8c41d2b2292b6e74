"""Template tags of the salesops admin."""
