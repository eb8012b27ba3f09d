"""Rasa input/output channels of this assistant: REST (rest.py), the chat widget's socket.io
(webchat.py) and Microsoft Teams (teams.py, with auth.py and cards.py); checks.py is what every
channel does with a message first."""
