"""`make bench` (python -m bench) and the load behind it and behind the load and fault tests."""
