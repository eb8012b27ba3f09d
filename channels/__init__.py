"""Rasa input/output channels of this assistant (Microsoft Teams)."""
