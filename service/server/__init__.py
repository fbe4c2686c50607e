"""Sockets and processes: the listening socket, the worker processes, the one-write transport."""
