"""The page server: the demo page, the presenter screen and training sessions (pages/server.py)."""
