"""What ships: a complete version built, the registry on disk, the retraining job, the bundled default."""
