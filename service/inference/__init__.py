"""From windows to answers: the shared batcher and the one path every route takes to it."""
